"""The running KPI engine (`ioc streams`): stored events in, KPI frames out."""
