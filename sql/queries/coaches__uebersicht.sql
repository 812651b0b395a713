-- access: staff
-- Caseload and outcomes per coach for the selection; rates come with their counts so the
-- page can protect small ones.
with

teilnahmen as (
    select * from marts.auswahl({filter_args})
),

build as (
    select as_of from meta.build
)

select
    t.coach,
    count(*) filter (where t.aktiv) as aktiv,
    count(*) as teilnahmen,
    count(*) filter (where t.integrationsfenster_geschlossen) as austritte_abgeschlossen,
    count(*) filter (where t.integrationsfenster_geschlossen and t.integriert_bis_28_tage)
        as integriert,
    sum(t.stunden_anwesend) as stunden_anwesend,
    sum(t.stunden_geplant) as stunden_geplant
from teilnahmen as t
group by t.coach
order by t.coach
