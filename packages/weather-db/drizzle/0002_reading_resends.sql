CREATE TABLE "reading_resends" (
	"source_topic" text NOT NULL,
	"source_partition" integer NOT NULL,
	"source_offset" bigint NOT NULL,
	"reading_id" uuid NOT NULL,
	"city" text NOT NULL,
	"observed_at" timestamp (3) with time zone NOT NULL,
	"recorded_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "reading_resends_pkey" PRIMARY KEY("source_topic","source_partition","source_offset")
);
