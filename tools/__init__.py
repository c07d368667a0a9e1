"""Tools around the system, not part of it: the simulator (`ioc simulate`) and the benchmarks (`ioc bench`)."""
