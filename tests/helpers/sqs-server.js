// sqs-server.js - local-aws-sqs 2.0.2 on 127.0.0.1, on a port the system
// picks: prints the port (the first line of stdout), runs until SIGTERM or
// SIGINT, then exits 0. Arguments: none.
//
// What the server does, read from its source (node_modules/local-aws-sqs):
// - Protocol by Content-Type alone: exactly "application/x-amz-json-1.0" is
//   AWS JSON 1.0 (action from X-Amz-Target "AmazonSQS.Action"); any other
//   type (a charset parameter included) is the Query protocol. The path is
//   ignored; the queue is the last path segment of the body's QueueUrl, so
//   the account and host in it do not matter. A JSON body that does not
//   parse is taken as {} (MissingParameter, not SerializationException).
// - Queues must be created first (CreateQueue); QueueUrl is
//   http://127.0.0.1:PORT/123456789012/NAME. (Real SQS refuses a deleted
//   name for 60 s; that emulation is off here.)
// - Errors: 400 (403 PurgeQueueInProgress, 404 ResourceNotFound), body
//   {"__type":"com.amazonaws.sqs#QueueDoesNotExist","message":...} and
//   header x-amzn-query-error "AWS.SimpleQueueService.NonExistentQueue;Sender".
//   Signatures and credentials are ignored: SigV4 is only "accepted".
// - ReceiveMessage polls every 10 ms and returns when MaxNumberOfMessages are
//   found or WaitTimeSeconds (+40 ms) pass: a long poll asking for 10 waits
//   the whole wait unless 10 are there. No message: a 200 with an EMPTY body
//   (real SQS sends {}).
// - Batch answers omit an empty Successful or Failed. Deleting a handle of a
//   message already deleted succeeds on a standard queue; a handle that does
//   not decode is ReceiptHandleIsInvalid (a Failed entry in batches).
// - Size limit: MaximumMessageSize defaults to 1 MiB, counted in UTF-16 code
//   units of body + attribute names, types and values, not bytes. Bodies are
//   not checked for the characters real SQS refuses (controls but \t \n \r).
// - MD5OfBody is the hex MD5 of the UTF-8 body; MD5OfMessageAttributes is
//   computed only over the attributes returned. Attributes: SenderId,
//   SentTimestamp, ApproximateReceiveCount, ApproximateFirstReceiveTimestamp,
//   and on FIFO queues MessageGroupId, MessageDeduplicationId, SequenceNumber.
// - ChangeMessageVisibility counts as a receive: ApproximateReceiveCount
//   grows with each change (real SQS counts receives only).
// - ReceiveMessage reads AttributeNames only: the newer
//   MessageSystemAttributeNames (what current SDKs send) is ignored.
// - GetQueueAttributes' ApproximateNumberOfMessages counts in-flight
//   messages too; a queue is empty when it and ...NotVisible are both 0.
// - OverLimit (the 120,000 in-flight cap, 20,000 on FIFO) is checked against
//   the count of visible messages, not in-flight ones.
"use strict";
const { createSqsServer } = require("local-aws-sqs");

(async () => {
	const server = await createSqsServer({ port: 0, hostname: "127.0.0.1", emulateQueueCreationLifecycle: false });
	const stop = () => {
		server.close(() => process.exit(0));
		server.closeAllConnections();   // a long poll would hold close() back
	};
	process.on("SIGTERM", stop);
	process.on("SIGINT", stop);
	process.stdout.write(`${server.address().port}\n`);
})().catch((err) => {
	process.stderr.write(`sqs-server: ${err.stack || err}\n`);
	process.exit(1);
});
