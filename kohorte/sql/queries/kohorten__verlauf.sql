-- access: aggregate
-- Kaplan-Meier curves of the time to first integration for the chosen cohorts.
select kohorte, tage, unter_risiko, ereignisse, zensiert, anteil_integriert
from marts.integrationsverlauf
where list_contains($kohorten, kohorte)
order by kohorte, tage
