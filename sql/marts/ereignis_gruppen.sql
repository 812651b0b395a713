-- The participations of each event group of marts.ereignis_summen, one row each: a
-- selection finds its groups here with one join on teilnahme_id.
create or replace table marts.ereignis_gruppen as
with

groups as (
    select distinct gruppe, unnest(teilnahmen) as teilnahme_id
    from marts.ereignis_summen
),

final as (
    select gruppe, teilnahme_id
    from groups
)

select * from final
order by teilnahme_id, gruppe;
