-- access: aggregate
-- Funnel from entry to integration, each step a subset of the one before.
with

teilnahmen as (
    select * from marts.auswahl({filter_args})
),

steps as (
    select
        count(*) as eintritt,
        count(*) filter (where regelmaessig) as regelmaessig,
        count(*) filter (where regelmaessig and bewerbungen > 0) as bewerbung,
        count(*) filter (
            where regelmaessig and bewerbungen > 0 and vorstellungsgespraeche > 0
        ) as vorstellungsgespraech,
        count(*) filter (
            where regelmaessig and bewerbungen > 0 and vorstellungsgespraeche > 0
                and integriert_bis_28_tage
        ) as integration
    from (
        -- regular attendance: at least 70 % of the scheduled hours attended
        select *, stunden_geplant > 0 and stunden_anwesend >= 0.7 * stunden_geplant
            as regelmaessig
        from teilnahmen
    )
)

select * from steps
