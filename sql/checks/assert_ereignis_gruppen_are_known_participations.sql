-- Every event group names only participations of the participation mart, and every group
-- of marts.ereignis_summen has its participations in marts.ereignis_gruppen.
select 'unbekannte Teilnahme' as problem, g.gruppe, g.teilnahme_id
from marts.ereignis_gruppen as g
where not exists (select 1 from marts.teilnahmen as t where t.teilnahme_id = g.teilnahme_id)
union all
select 'Gruppe ohne Teilnahmen', s.gruppe, null
from (select distinct gruppe from marts.ereignis_summen) as s
where not exists (select 1 from marts.ereignis_gruppen as g where g.gruppe = s.gruppe)
