/* kafka-unread - how many messages of TOPIC a consumer group has not
 * committed: for each partition, from the group's committed offset (the
 * partition's start when the group committed none) to its end, summed and
 * printed as one number.
 *
 *   kafka-unread BOOTSTRAP GROUP TOPIC
 *
 * It asks the group's coordinator for the committed offsets (OffsetFetch)
 * without joining the group, so it neither waits for a rebalance nor
 * causes one: the test broker holds every join for seconds. Exit 0 with
 * the number, or 1 with the error on stderr. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include <librdkafka/rdkafka.h>

#define TIMEOUT_MS 10000

static rd_kafka_t *consumer(const char *bootstrap, const char *group)
{
	char why[256];
	rd_kafka_conf_t *conf = rd_kafka_conf_new();

	if (rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, why, sizeof why) != RD_KAFKA_CONF_OK ||
	    rd_kafka_conf_set(conf, "group.id", group, why, sizeof why) != RD_KAFKA_CONF_OK ||
	    rd_kafka_conf_set(conf, "log_level", "3", why, sizeof why) != RD_KAFKA_CONF_OK) {
		fprintf(stderr, "kafka-unread: %s\n", why);
		rd_kafka_conf_destroy(conf);
		return NULL;
	}
	rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, why, sizeof why);
	if (!rk) {
		fprintf(stderr, "kafka-unread: %s\n", why);
		rd_kafka_conf_destroy(conf);
	}
	return rk;
}

/* partitions_of: every partition of TOPIC, with offsets unset. */
static rd_kafka_topic_partition_list_t *partitions_of(rd_kafka_t *rk, const char *topic)
{
	rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
	const struct rd_kafka_metadata *md = NULL;
	rd_kafka_resp_err_t err;

	if (!rkt) {
		fprintf(stderr, "kafka-unread: topic %s: %s\n", topic, rd_kafka_err2str(rd_kafka_last_error()));
		return NULL;
	}
	err = rd_kafka_metadata(rk, 0, rkt, &md, TIMEOUT_MS);
	rd_kafka_topic_destroy(rkt);
	if (!err && md->topic_cnt == 1)
		err = md->topics[0].err;
	if (err) {
		fprintf(stderr, "kafka-unread: topic %s: %s\n", topic, rd_kafka_err2str(err));
		if (md)
			rd_kafka_metadata_destroy(md);
		return NULL;
	}
	const struct rd_kafka_metadata_topic *t = &md->topics[0];
	rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(t->partition_cnt);
	for (int i = 0; i < t->partition_cnt; i++)
		rd_kafka_topic_partition_list_add(list, topic, t->partitions[i].id);
	rd_kafka_metadata_destroy(md);
	return list;
}

/* unread: the sum over LIST of end - max(committed, start); -1 on error. */
static long long unread(rd_kafka_t *rk, rd_kafka_topic_partition_list_t *list)
{
	rd_kafka_resp_err_t err = rd_kafka_committed(rk, list, TIMEOUT_MS);
	long long n = 0;

	if (err) {
		fprintf(stderr, "kafka-unread: committed offsets: %s\n", rd_kafka_err2str(err));
		return -1;
	}
	for (int i = 0; i < list->cnt; i++) {
		rd_kafka_topic_partition_t *p = &list->elems[i];
		int64_t low, high;

		if (p->err) {
			fprintf(stderr, "kafka-unread: %s [%d]: %s\n", p->topic, p->partition,
				rd_kafka_err2str(p->err));
			return -1;
		}
		err = rd_kafka_query_watermark_offsets(rk, p->topic, p->partition, &low, &high, TIMEOUT_MS);
		if (err) {
			fprintf(stderr, "kafka-unread: %s [%d]: watermarks: %s\n", p->topic, p->partition,
				rd_kafka_err2str(err));
			return -1;
		}
		int64_t from = p->offset > low ? p->offset : low;
		n += high > from ? high - from : 0;
	}
	return n;
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fputs("usage: kafka-unread BOOTSTRAP GROUP TOPIC\n", stderr);
		return 2;
	}
	rd_kafka_t *rk = consumer(argv[1], argv[2]);
	if (!rk)
		return 1;
	long long n = -1;
	rd_kafka_topic_partition_list_t *list = partitions_of(rk, argv[3]);
	if (list) {
		n = unread(rk, list);
		rd_kafka_topic_partition_list_destroy(list);
	}
	rd_kafka_destroy(rk);
	if (n < 0)
		return 1;
	return printf("%lld\n", n) < 0 || fflush(stdout) != 0;
}
