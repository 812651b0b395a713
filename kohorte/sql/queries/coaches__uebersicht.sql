-- access: staff
-- The coaches of the selection; their figures come from the KPI layer, one selection each.
select distinct t.coach
from marts.auswahl({filter_args}) as t
order by t.coach
