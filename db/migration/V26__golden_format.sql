-- The format version of a model version's golden blobs (GoldenOutputsCodec "AFGO" header), read by the registry when
-- the golden data is set, and the newest version each device agent reads (sent at registration; agents from before
-- this said nothing: 1). A job carries its version's format, and the lease gives it only to an agent that reads it:
-- writers can then default to format 2 without an old agent failing a version's jobs for good (they wait, pending,
-- for an agent that reads them).
-- Golden data set before this migration is recorded as version 1, what writers wrote unless ANEFORGE_GOLDEN_FORMAT=2
-- was set; an operator who set it before upgrading had upgraded every agent already (docs/agents.md).
ALTER TABLE model_version ADD COLUMN golden_format INTEGER;
UPDATE model_version SET golden_format = 1 WHERE golden_digest IS NOT NULL;
ALTER TABLE model_version ADD CONSTRAINT golden_format_known CHECK (golden_format IS NULL OR golden_format >= 1);

ALTER TABLE job ADD COLUMN golden_format INTEGER NOT NULL DEFAULT 1 CHECK (golden_format >= 1);
ALTER TABLE agent ADD COLUMN golden_format INTEGER NOT NULL DEFAULT 1 CHECK (golden_format >= 1);
