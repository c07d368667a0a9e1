"""Versioned SQL migrations (`sql/NNNN_name.sql`) and the runner behind `ioc db migrate`."""
