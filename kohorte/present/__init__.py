"""What people read: the chart builders (shared by the dashboard and the reports) and the
PDF reports, from the read layer's protected figures."""
