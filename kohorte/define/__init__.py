"""The definitions everything else is generated from: the data contract (``contract``),
the KPI catalogue (``kpis``), the filter dimensions (``dimensions``) and the
pseudonymisation rule (``privacy``). Pure: imports nothing else of Kohorte."""
