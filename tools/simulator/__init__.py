"""`ioc simulate`: publishers of Đắk Nông that behave like the real ones, with faults on demand.

`areas` picks the places and the publishers, `shapes` draws what happens there (pure, seeded),
`payloads` and `faults` turn it into contract v1 messages, valid or deliberately not,
`publishers` holds the MQTT clients and `runner` paces it all and counts what it injected.
"""
