"""The only package that knows paho: a narrow MQTT source with start/stop, a callback and ack."""
