-- access: status
-- Results of the data checks of the published build.
select
    name,
    severity,
    failing_rows,
    passed
from meta.checks
order by passed, severity, name
