-- Every rate is a share: numerator within 0 and the denominator.
select kennzahl, zaehler, nenner, quote
from marts.kennzahlen
where quote is not null and (quote < 0 or quote > 1 or zaehler > nenner)
