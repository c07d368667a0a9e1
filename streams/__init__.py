"""The KPI engine: windows over stored events per administrative area, published through Redis."""
