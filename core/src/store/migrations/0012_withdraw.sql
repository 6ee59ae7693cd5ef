-- 0012: a receptionist's mis-click can be taken back. A call's outcome or a check-in is
-- withdrawn together with every change it queued, while none of them has been sent: the
-- record stays (marked withdrawn, when and by whom) and the ops are settled as withdrawn.
-- The rest of the call's history is still never rewritten.
ALTER TABLE call_attempt ADD COLUMN change_key TEXT;  -- the appointment change it queued
-- A reschedule: the start it moved the visit from (the call list keeps the row there).
ALTER TABLE call_attempt ADD COLUMN old_start TEXT;
ALTER TABLE call_attempt ADD COLUMN withdrawn_at TEXT;
ALTER TABLE call_attempt ADD COLUMN withdrawn_by TEXT;
ALTER TABLE arrival ADD COLUMN withdrawn_at TEXT;
ALTER TABLE arrival ADD COLUMN withdrawn_by TEXT;
-- A person took the op back before it was sent (its resolution reads 'withdrawn').
ALTER TABLE outbox ADD COLUMN withdrawn INTEGER NOT NULL DEFAULT 0 CHECK (withdrawn IN (0, 1));

-- Calls recorded before this version: their appointment change was queued in the same
-- transaction, at the same time, on the same appointment.
UPDATE call_attempt SET change_key = (
    SELECT o.op_key FROM outbox o
    WHERE o.kind IN ('appointment_cancel', 'appointment_reschedule')
      AND o.target_id = call_attempt.appointment_id AND o.created_at = call_attempt.at
    ORDER BY o.id LIMIT 1)
WHERE drill = 0 AND outcome IN ('cancelled', 'rescheduled');
