-- access: aggregate
-- The values the filters offer.
select
    list(distinct standort order by standort) as standorte,
    list(distinct coach order by coach) as coaches,
    list(distinct kohorte_monat order by kohorte_monat) as kohorten,
    list(distinct kohorte_woche order by kohorte_woche) as wochen
from marts.teilnahmen
