-- de: Jede Quote liegt zwischen 0 und 100 %
-- en: Every rate lies between 0 and 100%
-- Every share is a share: numerator within 0 and the denominator (ratios excepted).
select k.kennzahl, k.periode, k.zaehler, k.nenner, k.quote
from marts.kennzahlen as k
inner join meta.kpi_catalogue as c using (kennzahl)
where c.einheit = 'rate'
    and k.quote is not null
    and (k.quote < 0 or k.quote > 1 or k.zaehler > k.nenner)
