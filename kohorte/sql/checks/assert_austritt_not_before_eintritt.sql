-- A participation cannot end before it starts (the loader rejects such lines).
select teilnahme_id, eintritt, austritt
from marts.teilnahmen
where austritt < eintritt
