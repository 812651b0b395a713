-- The values the filters offer.
select
    list(distinct standort order by standort) as standorte,
    list(distinct coach order by coach) as coaches,
    list(distinct strftime(eintritt_monat, '%Y-%m') order by strftime(eintritt_monat, '%Y-%m'))
        as kohorten
from marts.teilnahmen
