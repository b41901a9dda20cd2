/* test-source-kafka.c - --from parsing and where the Kafka source starts
 * for each form, including offsets for times (the test broker answers -1
 * to those, so the mapping is checked here). */
#include <librdkafka/rdkafka.h>

#include "source.h"
#include "source_kafka.h"
#include "tap.h"

static void from_forms(void)
{
	sk_source_opts o = { 0 };
	sk_err e = { 0 };

	ok(sk_from_parse("earliest", &o, &e) == 0 && o.from == SK_FROM_EARLIEST && o.from_given,
	   "earliest");
	ok(sk_from_parse("latest", &o, &e) == 0 && o.from == SK_FROM_LATEST, "latest");
	ok(sk_from_parse("42", &o, &e) == 0 && o.from == SK_FROM_OFFSET && o.from_value == 42, "an offset");
	ok(sk_from_parse("-5", &o, &e) == 0 && o.from == SK_FROM_TAIL && o.from_value == 5, "-N");
	ok(sk_from_parse("@1700000000000", &o, &e) == 0 && o.from == SK_FROM_TIME &&
	   o.from_value == 1700000000000LL, "@MS");
	ok(sk_from_parse("soon", &o, &e) < 0 && e.code == EX_USAGE, "a word is refused");
	is_str(e.msg, "invalid --from 'soon' (expected earliest or beginning, latest or end, an offset, -N, @MS or s@MS)", "and says why");
	ok(sk_from_parse("-", &o, &e) < 0, "a bare - is refused");
	ok(sk_from_parse("@", &o, &e) < 0, "a bare @ is refused");
	ok(sk_from_parse("1x", &o, &e) < 0, "trailing garbage is refused");
	ok(sk_from_parse("99999999999999999999", &o, &e) < 0, "an offset beyond 64 bits is refused");
	ok(sk_from_parse("--3", &o, &e) < 0, "a double sign is refused");
}

static void start_offsets(void)
{
	is_int(sk_kafka_start_offset(SK_FROM_EARLIEST, 0), RD_KAFKA_OFFSET_BEGINNING, "earliest: the beginning");
	is_int(sk_kafka_start_offset(SK_FROM_LATEST, 0), RD_KAFKA_OFFSET_END, "latest: the end");
	is_int(sk_kafka_start_offset(SK_FROM_OFFSET, 17), 17, "an offset: itself");
	is_int(sk_kafka_start_offset(SK_FROM_TAIL, 3), RD_KAFKA_OFFSET_TAIL(3), "-3: three before the end");
	is_int(sk_kafka_time_offset(123), 123, "a time Kafka found: its offset");
	is_int(sk_kafka_time_offset(0), 0, "a time before every message: offset 0");
	is_int(sk_kafka_time_offset(-1), RD_KAFKA_OFFSET_END, "a time after every message (-1): the end");
}

int main(void)
{
	from_forms();
	start_offsets();
	return tap_done();
}
