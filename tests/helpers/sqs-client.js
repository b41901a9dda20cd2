// sqs-client.js - the independent SQS client of the interoperability tests
// (@aws-sdk/client-sqs), one JSON line out per result.
//
//   sqs-client.js ENDPOINT create NAME [ATTRIBUTE=VALUE...]   {"url":...}
//   sqs-client.js QUEUE_URL send          stdin: one JSON line per message,
//       {"body":..., "attributes":{NAME:{"type":"String","value":...}},
//        "group_id":..., "deduplication_id":..., "delay":N}; Binary values in
//       base64. Out: {"id":..., "md5":...} per message
//   sqs-client.js QUEUE_URL receive [MAX [WAIT [VISIBILITY]]]
//       {"id","body","md5","receipt_handle","attributes","message_attributes"}
//       per message, message attributes as {"type","value"} (Binary base64)
//   sqs-client.js QUEUE_URL delete        stdin: receipt handles, one a line
//   sqs-client.js QUEUE_URL attributes    the queue's attributes, one object
//   sqs-client.js QUEUE_URL fill N [FIRST]  bodies "FIRST" (1) on, N of them, in batches of 10,
//       ten batches at once; out: {"sent":N}
//   sqs-client.js QUEUE_URL consume       the loop a user writes (scripts/bench's
//       peer): receive 10 (1 s long poll), print each body as a line,
//       DeleteMessageBatch them; until a receive finds nothing
//   sqs-client.js QUEUE_URL produce       the other loop: stdin's lines as
//       bodies, SendMessageBatch of 10 at a time
//
// The endpoint is the URL's origin; credentials are fixed fake ones (the
// test server ignores signatures). Exits 1 with the error on stderr.
"use strict";
// The SDK warns on every run that its releases after January 2027 need
// Node 22; the version pinned in package-lock.json runs on Node 20.
process.removeAllListeners("warning");
process.on("warning", (w) => String(w.message).startsWith("NodeVersionSupportWarning") ||
	process.stderr.write(`sqs-client: ${w.name}: ${w.message}\n`));
const sqs = require("@aws-sdk/client-sqs");
const readline = require("readline");

const [target, command, ...args] = process.argv.slice(2);
const client = new sqs.SQSClient({
	endpoint: new URL(target).origin,
	region: "us-east-1",
	credentials: { accessKeyId: "test", secretAccessKey: "test" },
});
const out = (v) => process.stdout.write(JSON.stringify(v) + "\n");

async function lines() {
	const result = [];
	for await (const line of readline.createInterface({ input: process.stdin, crlfDelay: Infinity }))
		if (line !== "")
			result.push(line);
	return result;
}

function attributesIn(a) {
	const r = {};
	for (const [name, { type, value }] of Object.entries(a || {}))
		r[name] = type.startsWith("Binary")
			? { DataType: type, BinaryValue: Buffer.from(value, "base64") }
			: { DataType: type, StringValue: value };
	return r;
}

function attributesOut(a) {
	const r = {};
	for (const [name, v] of Object.entries(a || {}))
		r[name] = { type: v.DataType,
			value: v.BinaryValue !== undefined ? Buffer.from(v.BinaryValue).toString("base64") : v.StringValue };
	return r;
}

const commands = {
	async create() {
		const [name, ...attrs] = args;
		const Attributes = Object.fromEntries(attrs.map((a) => [a.slice(0, a.indexOf("=")), a.slice(a.indexOf("=") + 1)]));
		const r = await client.send(new sqs.CreateQueueCommand({ QueueName: name, Attributes }));
		out({ url: r.QueueUrl });
	},
	async send() {
		for (const line of await lines()) {
			const m = JSON.parse(line);
			const r = await client.send(new sqs.SendMessageCommand({
				QueueUrl: target, MessageBody: m.body, MessageAttributes: attributesIn(m.attributes),
				MessageGroupId: m.group_id, MessageDeduplicationId: m.deduplication_id, DelaySeconds: m.delay,
			}));
			out({ id: r.MessageId, md5: r.MD5OfMessageBody });
		}
	},
	async receive() {
		const [max = "10", wait = "0", visibility] = args;
		const r = await client.send(new sqs.ReceiveMessageCommand({
			QueueUrl: target, MaxNumberOfMessages: Number(max), WaitTimeSeconds: Number(wait),
			VisibilityTimeout: visibility === undefined ? undefined : Number(visibility),
			// local-aws-sqs reads only the older AttributeNames
			AttributeNames: ["All"], MessageSystemAttributeNames: ["All"], MessageAttributeNames: ["All"],
		}));
		for (const m of r.Messages || [])
			out({ id: m.MessageId, body: m.Body, md5: m.MD5OfBody, receipt_handle: m.ReceiptHandle,
				attributes: m.Attributes || {}, message_attributes: attributesOut(m.MessageAttributes) });
	},
	async delete() {
		for (const handle of await lines())
			await client.send(new sqs.DeleteMessageCommand({ QueueUrl: target, ReceiptHandle: handle }));
	},
	async fill() {
		const first = args[1] === undefined ? 1 : Number(args[1]);
		const n = first - 1 + Number(args[0]);
		let next = first;
		const worker = async () => {
			while (next <= n) {
				const first = next;
				next = Math.min(n + 1, next + 10);
				const Entries = [];
				for (let i = first; i < next; i++)
					Entries.push({ Id: String(i), MessageBody: String(i) });
				const r = await client.send(new sqs.SendMessageBatchCommand({ QueueUrl: target, Entries }));
				if ((r.Failed || []).length)
					throw new Error(`${r.Failed.length} entries failed: ${r.Failed[0].Code}`);
			}
		};
		await Promise.all(Array.from({ length: 10 }, worker));
		out({ sent: n - first + 1 });
	},
	async consume() {
		for (;;) {
			const r = await client.send(new sqs.ReceiveMessageCommand({
				QueueUrl: target, MaxNumberOfMessages: 10, WaitTimeSeconds: 1,
				AttributeNames: ["All"], MessageAttributeNames: ["All"],
			}));
			const messages = r.Messages || [];
			if (messages.length === 0)
				return;
			process.stdout.write(messages.map((m) => m.Body + "\n").join(""));
			await client.send(new sqs.DeleteMessageBatchCommand({ QueueUrl: target,
				Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })) }));
		}
	},
	async produce() {
		let batch = [];
		const flush = async () => {
			if (batch.length)
				await client.send(new sqs.SendMessageBatchCommand({ QueueUrl: target,
					Entries: batch.map((b, i) => ({ Id: String(i), MessageBody: b })) }));
			batch = [];
		};
		for await (const line of readline.createInterface({ input: process.stdin, crlfDelay: Infinity })) {
			batch.push(line);
			if (batch.length === 10)
				await flush();
		}
		await flush();
	},
	async attributes() {
		const r = await client.send(new sqs.GetQueueAttributesCommand({ QueueUrl: target, AttributeNames: ["All"] }));
		out(r.Attributes || {});
	},
};

if (!commands[command]) {
	process.stderr.write(`sqs-client: unknown command ${command}\n`);
	process.exit(64);
}
commands[command]().catch((err) => {
	process.stderr.write(`sqs-client: ${command}: ${err.name}: ${err.message}\n`);
	process.exit(1);
});
