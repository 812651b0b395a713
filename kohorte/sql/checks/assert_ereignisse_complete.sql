-- de: Die Zeitleiste enthält jedes Ereignis genau einmal
-- en: The timeline holds every event exactly once
-- The timeline of marts.ereignisse holds every current row of the staging views, no more.
select
    (select count(*) from marts.ereignisse) as ereignisse,
    (select count(*) from staging.stg_anwesenheit)
    + (select count(*) from staging.stg_aktivitaeten)
    + (select count(*) from staging.stg_ergebnisse)
    + (select count(*) from staging.stg_verbleib) as staging
where ereignisse <> staging
