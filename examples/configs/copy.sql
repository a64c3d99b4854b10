-- A raw copy of stream 'orders' to 'orders-copy' on the 'pyflink-kinesis' table, written by hand.
-- The jar: the path `pyflink-kinesis jar` prints. The endpoint: a local Kinesis on plain http://.
ADD JAR '/path/printed/by/pyflink-kinesis-jar.jar';

CREATE TABLE src (
  data BYTES,
  pk STRING METADATA FROM 'partition-key' VIRTUAL
) WITH (
  'connector' = 'pyflink-kinesis',
  'stream' = 'orders',
  'format' = 'raw',
  'aws.region' = 'us-east-1',
  'aws.endpoint' = 'http://127.0.0.1:4568',
  'aws.credentials.provider' = 'BASIC',
  'aws.credentials.basic.accesskeyid' = 'local',
  'aws.credentials.basic.secretkey' = 'local',
  'source.init.position' = 'TRIM_HORIZON'
);

CREATE TABLE dst (
  data BYTES,
  pk STRING METADATA FROM 'partition-key'
) WITH (
  'connector' = 'pyflink-kinesis',
  'stream' = 'orders-copy',
  'format' = 'raw',
  'aws.region' = 'us-east-1',
  'aws.endpoint' = 'http://127.0.0.1:4568',
  'aws.credentials.provider' = 'BASIC',
  'aws.credentials.basic.accesskeyid' = 'local',
  'aws.credentials.basic.secretkey' = 'local'
);

INSERT INTO dst SELECT data, pk FROM src;
