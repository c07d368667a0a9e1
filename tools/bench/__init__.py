"""Benchmark commands (`ioc bench …`): load generators and measurements against the real stack."""
