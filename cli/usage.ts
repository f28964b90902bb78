export const USAGE = `Usage: bucket-bridge <command> [options]

Commands:
  run      --source s3://|gs://bucket/prefix --dest s3://|gs://bucket/prefix --workspace W --workflow ID [options]
           List, sign and submit every image (or video) under --source to Roboflow Batch Processing,
           start the job when ingest is confirmed, and copy the results to <dest>/<runId>/.
  resume   <runId>   Continue an unfinished run from local state (submission from its checkpoint, waiting,
           the job start, export) [--webhook-url URL] [--webhook-listen HOST:PORT] [--poll-interval S]
           [--timeout S] [--progress-interval S] [--log-format text|json] [--state-dir DIR] [--quiet];
           --allow-http-references and the storage flags override those the run was started with.
  status   <runId>   Show where a run is: its summary from local state and, while it goes on, the target's
           own progress (ingest, job stage and tasks); a run whose process failed or was killed shows as
           interrupted. [--json] prints JSON (the default when stdout is not a terminal).
  export   <jobId>   Copy a finished job's results again [--dest s3://|gs://...] [--keep-archives]
           [--log-format text|json].

Run options:
  --target roboflow|extend|llamacloud   which batch API processes the run (default roboflow)
  --extend-processor ID        Extend processor id (with --target extend); --extend-processor-kind
                               extract|classify|split (default extract); --extend-processor-version V
  --llamacloud-configuration ID   LlamaCloud configuration id (with --target llamacloud);
                               --llamacloud-job parse_v2|extract_v2 (default parse_v2)
  --media images|videos|documents   what to pick up (default images for Roboflow; documents for the others)
  --url-lifetime SECONDS       signed URL lifetime, 60..604800 (default 86400)
  --manifest-prefix PREFIX     where references files go in the source bucket (default bucket-bridge/manifests/)
  --keep-archives              keep result archives as they are instead of unpacking them
  --results-layout parts|mirror  mirror: also write each object's result to <run>/by-key/<source key>.json (default parts)
  --machine-type cpu|gpu       --workers-per-machine N   --processing-timeout SECONDS
  --max-parallel-tasks N       --max-video-fps N (videos)  --aggregation-format csv|jsonl
  --webhook-url URL            public base URL reaching --webhook-listen; wait on webhooks instead of polling
  --webhook-listen HOST:PORT   where the webhook receiver listens (default 127.0.0.1:8787)
  --allow-http-references      submit plain-http signed URLs to Roboflow (local emulators, private endpoints;
                               Roboflow's official client refuses them; or BUCKET_BRIDGE_ALLOW_HTTP_REFERENCES=true)
  --ingest references|upload|auto   how objects reach Roboflow (default auto): signed references, or the
                               bytes streamed as tar archives of images (videos one by one) to Roboflow's
                               signed uploads; auto sends references and switches to uploads when the plan
                               refuses signed-URL ingest (Growth and Enterprise only take it)
  --poll-interval SECONDS      polling interval (default 15)
  --timeout SECONDS            give up waiting after this long (default 86400); the run goes on remotely
  --page-size N                listing page size     --chunk-size N   references per file (default 20000/5000)
  --concurrency N              source partitions listed at once (default 1: one listing; at most 64)
  --inventory s3://B/…/manifest.json | s3://B/<prefix>/<source bucket>/<config id>/
                               read the objects from an S3 Inventory report (CSV or Parquet; the newest
                               complete manifest under a config id prefix) instead of listing; --concurrency
                               data files at once; --inventory-max-age-days N refuses older ones (default 7)
  --state-dir DIR              local run state (default .bucket-bridge, or BUCKET_BRIDGE_STATE_DIR)
  --progress-interval SECONDS  how often progress is read and, off a terminal, printed (default 5)
  --log-format text|json       stderr lines for people or for machines (default: text on a terminal, else json)
  --quiet                      no progress output

Storage options (run; export takes the --dest-* and --gcs-* ones):
  --source-region R            --dest-region R    region of an S3 bucket (default: asked from S3 with HeadBucket,
                               or AWS_REGION with a custom endpoint; R2: auto)
  --source-requester-pays      --dest-requester-pays   requests on a requester-pays S3 bucket are billed to you
  --gcs-key-file PATH          service-account key that signs gs:// URLs (or BUCKET_BRIDGE_GCS_KEY_FILE,
                               GOOGLE_APPLICATION_CREDENTIALS)
  --gcs-sign-as EMAIL          keyless: sign through the IAM signBlob API as this service account
  --gcs-user-project P         project billed for requester-pays GCS buckets

Environment: ROBOFLOW_API_KEY (required for Roboflow), ROBOFLOW_API_URL, EXTEND_API_KEY, EXTEND_API_URL,
EXTEND_WORKSPACE_ID, EXTEND_WEBHOOK_SIGNING_SECRET, LLAMA_CLOUD_API_KEY, LLAMA_CLOUD_BASE_URL,
LLAMA_CLOUD_PROJECT_ID, BUCKET_BRIDGE_WEBHOOK_SECRET,
BUCKET_BRIDGE_STATE_DIR, BUCKET_BRIDGE_ALLOW_HTTP_REFERENCES, the standard AWS variables (AWS_REGION, AWS_PROFILE, AWS_ACCESS_KEY_ID,
AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_ENDPOINT_URL_S3 for S3-compatible stores,
BUCKET_BRIDGE_S3_FORCE_PATH_STYLE), and for GCS: GOOGLE_APPLICATION_CREDENTIALS, GOOGLE_CLOUD_PROJECT,
BUCKET_BRIDGE_GCS_KEY_FILE, BUCKET_BRIDGE_GCS_SIGN_AS, BUCKET_BRIDGE_GCS_USER_PROJECT,
BUCKET_BRIDGE_GCS_ACCESS_TOKEN, BUCKET_BRIDGE_GCS_SIGN_CONCURRENCY, BUCKET_BRIDGE_GCS_IAM_URL,
BUCKET_BRIDGE_GCS_ENDPOINT.
`;
