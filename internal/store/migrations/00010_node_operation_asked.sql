-- +goose Up
-- When a node job was about to ask the provisioning driver for the node's
-- operation (nodes.operation), written before the request in a transaction
-- of its own. While operation_requested_at is still NULL it says that the
-- request may have reached the driver without its acceptance being recorded
-- (the process crashed, or the attempt was cut off, in between): the job
-- that resumes reads the driver's state, which names the last request the
-- server accepted (provision.State.OperationID), before it asks again, since
-- a Rebuild or a Rescue asked for twice starts over. NULL while no operation
-- is under way, and until its job first asks.
ALTER TABLE nodes ADD COLUMN operation_asked_at TIMESTAMPTZ;

-- +goose Down
ALTER TABLE nodes DROP COLUMN operation_asked_at;
