-- de: Jede Teilnahme gehört zu genau einer Kohorte (Eintrittsmonat und -woche)
-- en: Every participation belongs to exactly one cohort (entry month and week)
-- The selection macro without filters is the whole programme, and every participation
-- falls into exactly one entry-month and one entry-week cohort (the cohort filter).
with

alle as (
    select count(*) as n from marts.teilnahmen
),

ohne_filter as (
    select count(*) as n
    from marts.auswahl(null, null, null, null, null, null, null)
),

kohorten as (
    select
        count(*) filter (where kohorte_monat is null or kohorte_woche is null) as ohne_kohorte,
        count(*) filter (
            where kohorte_monat <> strftime(eintritt, '%Y-%m')
                or kohorte_woche not similar to '[0-9]{4}-W[0-9]{2}'
        ) as falsch
    from marts.teilnahmen
)

select a.n as teilnahmen, o.n as auswahl, k.ohne_kohorte, k.falsch
from alle as a, ohne_filter as o, kohorten as k
where a.n <> o.n or k.ohne_kohorte > 0 or k.falsch > 0
