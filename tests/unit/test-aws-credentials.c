/* test-aws-credentials.c - the AWS credential chain (lib/aws_credentials.c
 * and its sources): the environment, the ~/.aws files, credential_process,
 * and the container and IMDSv2 endpoints of tests/helpers/aws-metadata-fake.py.
 * Every error is checked for the secret it must not repeat. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <curl/curl.h>

#include "aws_credentials.h"
#include "aws_credentials_impl.h"
#include "process.h"
#include "tap.h"

static char dir[] = "/tmp/sk-aws-test-XXXXXX";
static sk_aws_provider *provider;

static const char *const aws_vars[] = {
	"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
	"AWS_SHARED_CREDENTIALS_FILE", "AWS_CONFIG_FILE", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
	"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_AUTHORIZATION_TOKEN",
	"AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", "AWS_EC2_METADATA_DISABLED",
	"AWS_EC2_METADATA_SERVICE_ENDPOINT", "AWS_REGION", "AWS_DEFAULT_REGION",
};

/* Nothing of the machine's own AWS setup, and no instance metadata
 * unless a test asks for its fake. */
static void clean_env(void)
{
	size_t i;

	for (i = 0; i < sizeof aws_vars / sizeof aws_vars[0]; i++)
		unsetenv(aws_vars[i]);
	setenv("HOME", dir, 1);
	setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
}

static const char *in_dir(const char *name)
{
	static char path[4][256];
	static int next;
	char *p = path[next++ % 4];

	snprintf(p, sizeof path[0], "%s/%s", dir, name);
	return p;
}

static void write_file(const char *name, const char *text)
{
	FILE *f = fopen(in_dir(name), "w");

	if (f == NULL || fputs(text, f) < 0 || fclose(f) != 0)
		printf("# cannot write %s\n", in_dir(name));
}

/* The chain, asked once by a provider of the environment as it is now. */
static int chain(const sk_aws_creds **c, sk_err *e)
{
	sk_aws_provider_free(provider);
	sk_err_clear(e);
	*c = NULL;
	if ((provider = sk_aws_provider_new(e)) == NULL)
		return -1;
	return sk_aws_provider_get(provider, c, e);
}

static void is_creds(const sk_aws_creds *c, const char *id, const char *secret, const char *token,
                     const char *source, const char *what)
{
	if (!ok(c != NULL, "%s: credentials", what))
		return;
	is_str(c->access_key_id, id, "%s: the access key id", what);
	is_str(c->secret_access_key, secret, "%s: the secret access key", what);
	is_str(c->session_token, token, "%s: the session token", what);
	is_str(c->source, source, "%s: the source, for messages", what);
}

/* An error with the code, the words, and not the secret. */
static void is_error(int rc, const sk_err *e, int code, const char *words, const char *secret, const char *what)
{
	is_int(rc, -1, "%s: fails", what);
	is_int(e->code, code, "%s: exit code", what);
	if (!ok(strstr(e->msg, words) != NULL, "%s: the message says '%s'", what, words))
		printf("#   message: %s\n", e->msg);
	ok(strstr(e->msg, secret) == NULL, "%s: the message does not hold the secret", what);
}

static void test_environment(void)
{
	const sk_aws_creds *c;
	sk_err e;

	clean_env();
	setenv("AWS_ACCESS_KEY_ID", "AKIAENVKEY", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "env-secret-value", 1);
	is_int(chain(&c, &e), 0, "environment: the key pair is taken");
	is_creds(c, "AKIAENVKEY", "env-secret-value", NULL, "environment", "environment");
	is_int(c ? c->expires : -1, 0, "environment: the credentials never expire");

	setenv("AWS_SESSION_TOKEN", "env-session-token", 1);
	is_int(chain(&c, &e), 0, "environment: with a session token");
	is_creds(c, "AKIAENVKEY", "env-secret-value", "env-session-token", "environment", "environment+token");

	unsetenv("AWS_SECRET_ACCESS_KEY");
	sk_aws_provider_get(provider, &c, &e);
	is_str(c->secret_access_key, "env-secret-value", "environment: read once, when the provider is made");

	is_error(chain(&c, &e), &e, EX_CONFIG, "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not",
	         "AKIAENVKEY", "environment: a key id alone");
	unsetenv("AWS_ACCESS_KEY_ID");
	setenv("AWS_SECRET_ACCESS_KEY", "env-secret-value", 1);
	is_error(chain(&c, &e), &e, EX_CONFIG, "AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not",
	         "env-secret-value", "environment: a secret alone");
}

static const char credentials_file[] =
	"# the shared credentials file\n"
	"[default]\n"
	"aws_access_key_id = AKIADEFAULT\n"
	"aws_secret_access_key = default-secret-value\n"
	"\n"
	"[work]\n"
	"aws_access_key_id=AKIAWORK\n"
	"aws_secret_access_key=work/secret+value=\n"
	"aws_session_token = work-session-token\n"
	"[half]\n"
	"aws_secret_access_key = half-secret-value\n"
	"[broken]\n"
	"aws_access_key_id = AKIABROKEN\n"
	"this line is not a setting\n";

static const char config_file[] =
	"[default]\n"
	"region = eu-west-3\n"
	"s3 =\n"
	"    max_concurrent_requests = 20\n"
	"[profile other-tool]\n"
	"s3 =\n"
	"    max_concurrent_requests = 10\n"
	"a line another tool may accept\n"
	"[profile  cfg]\n"
	"AWS_ACCESS_KEY_ID: AKIACONFIG\n"
	"Aws_Secret_Access_Key: config-secret-value\n"
	"region: us-east-2\n"
	"[cfgonly]\n"
	"aws_access_key_id = AKIANOTAPROFILE\n"
	"aws_secret_access_key = not-a-profile\n"
	"[profile work]\n"
	"aws_access_key_id = AKIASHADOWED\n"
	"aws_secret_access_key = shadowed-secret\n";

static void use_files(void)
{
	clean_env();
	write_file("credentials", credentials_file);
	write_file("config", config_file);
	setenv("AWS_SHARED_CREDENTIALS_FILE", in_dir("credentials"), 1);
	setenv("AWS_CONFIG_FILE", in_dir("config"), 1);
}

static void test_profiles(void)
{
	const sk_aws_creds *c;
	char want[512];
	sk_err e;

	use_files();
	is_int(chain(&c, &e), 0, "profile: the default profile");
	is_creds(c, "AKIADEFAULT", "default-secret-value", NULL, "profile default", "default profile");

	setenv("AWS_PROFILE", "work", 1);
	is_int(chain(&c, &e), 0, "profile: a named profile of the credentials file");
	is_creds(c, "AKIAWORK", "work/secret+value=", "work-session-token", "profile work",
	         "named profile, whose keys the credentials file has over the config file's");

	setenv("AWS_PROFILE", "cfg", 1);
	is_int(chain(&c, &e), 0, "profile: a [profile NAME] of the config file, ':' and keys in any case");
	is_creds(c, "AKIACONFIG", "config-secret-value", NULL, "profile cfg", "config profile");

	setenv("AWS_PROFILE", "cfgonly", 1);
	snprintf(want, sizeof want, "AWS_PROFILE: no profile cfgonly in %s or %s", in_dir("credentials"),
	         in_dir("config"));
	is_error(chain(&c, &e), &e, EX_CONFIG, want, "not-a-profile",
	         "profile: a bare [NAME] of the config file is no profile, and a named one missing");

	setenv("AWS_PROFILE", "half", 1);
	snprintf(want, sizeof want, "%s:11: profile half has aws_secret_access_key but no aws_access_key_id",
	         in_dir("credentials"));
	is_error(chain(&c, &e), &e, EX_CONFIG, want, "half-secret-value", "profile: a secret without its key id");

	setenv("AWS_PROFILE", "broken", 1);
	snprintf(want, sizeof want, "%s:14: expected key = value", in_dir("credentials"));
	is_error(chain(&c, &e), &e, EX_CONFIG, want, "AKIABROKEN", "profile: a bad line in the profile's section");

	setenv("AWS_PROFILE", "work", 1);
	setenv("AWS_ACCESS_KEY_ID", "AKIAENVKEY", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "env-secret-value", 1);
	is_int(chain(&c, &e), 0, "precedence: environment and a profile");
	is_creds(c, "AKIAENVKEY", "env-secret-value", NULL, "environment", "the environment before the profile");

	clean_env();
	mkdir(in_dir(".aws"), 0700);
	write_file(".aws/credentials", "[default]\naws_access_key_id = AKIAHOME\naws_secret_access_key = home-secret\n");
	is_int(chain(&c, &e), 0, "profile: ~/.aws/credentials when no file is named");
	is_creds(c, "AKIAHOME", "home-secret", NULL, "profile default", "~/.aws/credentials");
	unlink(in_dir(".aws/credentials"));

	is_error(chain(&c, &e), &e, EX_CONFIG, "no AWS credentials: tried environment, profile default",
	         "home-secret", "no source has credentials");
	ok(strstr(e.msg, "instance metadata") == NULL, "no credentials: disabled instance metadata is not tried");
}

static void test_region(void)
{
	char *r;
	sk_err e;

	use_files();
	setenv("AWS_PROFILE", "cfg", 1);
	provider = (sk_aws_provider_free(provider), sk_aws_provider_new(&e));
	r = sk_aws_provider_region(provider, &e);
	is_str(r, "us-east-2", "region: the profile's region in the config file");
	free(r);
	setenv("AWS_DEFAULT_REGION", "ap-south-1", 1);
	provider = (sk_aws_provider_free(provider), sk_aws_provider_new(&e));
	r = sk_aws_provider_region(provider, &e);
	is_str(r, "ap-south-1", "region: AWS_DEFAULT_REGION before the config file");
	free(r);
	setenv("AWS_REGION", "sa-east-1", 1);
	provider = (sk_aws_provider_free(provider), sk_aws_provider_new(&e));
	r = sk_aws_provider_region(provider, &e);
	is_str(r, "sa-east-1", "region: AWS_REGION first");
	free(r);
	clean_env();
	provider = (sk_aws_provider_free(provider), sk_aws_provider_new(&e));
	r = sk_aws_provider_region(provider, &e);
	ok(r == NULL && e.code == 0, "region: none set is no error");
	free(r);
}

static void test_times(void)
{
	time_t t = 0;

	ok(sk_aws_parse_time("2099-01-02T03:04:05Z", &t) == 0 && t == 4071006245, "time: UTC");
	ok(sk_aws_parse_time("2024-02-29T23:59:59.123Z", &t) == 0 && t == 1709251199, "time: a fraction");
	ok(sk_aws_parse_time("2026-12-06T22:30:00+01:30", &t) == 0 && t == 1796590800, "time: an offset");
	ok(sk_aws_parse_time("2026-12-06T21:00:00", &t) < 0, "time: no zone is refused");
	ok(sk_aws_parse_time("2026-13-06T21:00:00Z", &t) < 0, "time: month 13 is refused");
	ok(sk_aws_parse_time("tomorrow", &t) < 0, "time: words are refused");
}

/* A credential_process in the default profile of the config file. */
static void use_process(const char *command)
{
	char text[1024];

	clean_env();
	snprintf(text, sizeof text, "[default]\ncredential_process = %s\n", command);
	write_file("config", text);
	write_file("credentials", "");
	setenv("AWS_SHARED_CREDENTIALS_FILE", in_dir("credentials"), 1);
	setenv("AWS_CONFIG_FILE", in_dir("config"), 1);
}

static int count_lines(const char *name)
{
	FILE *f = fopen(in_dir(name), "r");
	int n = 0, ch;

	if (f == NULL)
		return 0;
	while ((ch = fgetc(f)) != EOF)
		n += ch == '\n';
	fclose(f);
	return n;
}

/* A script that counts its runs and prints credentials expiring after
 * $1 (a date(1) offset). */
static void write_process_script(void)
{
	write_file("process.sh",
	           "echo run >> \"$(dirname \"$0\")/runs\"\n"
	           "printf '{\"Version\": 1, \"AccessKeyId\": \"ASIAPROCESS\", \"SecretAccessKey\": "
	           "\"process-secret-value\", \"SessionToken\": \"process-token\", \"Expiration\": \"%s\"}\\n' "
	           "\"$(date -u -d \"$1\" +%Y-%m-%dT%H:%M:%SZ)\"\n");
}

static void test_credential_process(void)
{
	const sk_aws_creds *c;
	char command[512];
	time_t before = time(NULL);
	sk_err e;

	write_process_script();
	snprintf(command, sizeof command, "sh '%s' '+2 hours'", in_dir("process.sh"));
	use_process(command);
	unlink(in_dir("runs"));
	is_int(chain(&c, &e), 0, "credential_process: its credentials");
	is_creds(c, "ASIAPROCESS", "process-secret-value", "process-token", "credential_process (profile default)",
	         "credential_process");
	ok(c && c->expires >= before + 7200 - 1 && c->expires <= time(NULL) + 7200 + 1,
	   "credential_process: Expiration is read");
	sk_aws_provider_get(provider, &c, &e);
	is_int(count_lines("runs"), 1, "credential_process: cached while far from expiry");

	snprintf(command, sizeof command, "sh '%s' '+1 minute'", in_dir("process.sh"));
	use_process(command);
	unlink(in_dir("runs"));
	is_int(chain(&c, &e), 0, "credential_process: credentials a minute from expiry");
	is_int(sk_aws_provider_get(provider, &c, &e), 0, "credential_process: asked again");
	is_int(count_lines("runs"), 2, "credential_process: run again within five minutes of expiry");
	write_file("process.sh", "echo run >> \"$(dirname \"$0\")/runs\"; exit 1\n");
	is_int(sk_aws_provider_get(provider, &c, &e), 0, "credential_process: a failed refresh");
	is_int(count_lines("runs"), 3, "credential_process: ... was tried");
	is_str(c ? c->secret_access_key : NULL, "process-secret-value",
	       "credential_process: ... keeps the credentials that still work");
	write_process_script();

	use_process("echo '{\"Version\": 1, \"AccessKeyId\": \"ASIA\", \"SecretAccessKey\": \"leaked-secret\"}'; exit 1");
	is_error(chain(&c, &e), &e, EX_UNAVAILABLE, "credential_process of profile default: exited with status 1",
	         "leaked-secret", "credential_process: a failing command");
	use_process("echo 'SecretAccessKey: leaked-secret'");
	is_error(chain(&c, &e), &e, EX_DATAERR, "credential_process of profile default: the answer is not JSON",
	         "leaked-secret", "credential_process: output that is not JSON");
	use_process("echo '{\"AccessKeyId\": \"ASIA\", \"SecretAccessKey\": \"leaked-secret\"}'");
	is_error(chain(&c, &e), &e, EX_DATAERR, "the answer's Version is not 1", "leaked-secret",
	         "credential_process: no Version");
	use_process("echo '{\"Version\": 1, \"AccessKeyId\": \"ASIA\", \"SecretAccessKey\": \"leaked-secret\", "
	            "\"Expiration\": \"soon\"}'");
	is_error(chain(&c, &e), &e, EX_DATAERR, "the answer's Expiration is not an ISO 8601 time", "leaked-secret",
	         "credential_process: a bad Expiration");

	use_process("echo '{\"Version\": 1, \"AccessKeyId\": \"ASIANOEXP\", \"SecretAccessKey\": \"s\"}'");
	write_file("credentials", "[default]\naws_access_key_id = AKIAFILE\naws_secret_access_key = file-secret\n");
	is_int(chain(&c, &e), 0, "credential_process: beside the credentials file's keys");
	is_str(c ? c->access_key_id : NULL, "AKIAFILE", "credential_process: the credentials file's keys come first");
	write_file("credentials", "");
	is_int(chain(&c, &e), 0, "credential_process: without Expiration");
	is_int(c ? c->expires : -1, 0, "credential_process: without Expiration they never expire");
}

/* The fake endpoints, started once; stopped by pid at the end. */
static pid_t fake_pid = -1;
static char fake_url[64];

/* Its first line (the port), waited for with a deadline. */
static int read_port(int fd, int *port)
{
	char line[32];
	size_t n = 0;
	time_t deadline = time(NULL) + 15;
	struct pollfd p = { .fd = fd, .events = POLLIN };
	ssize_t r;

	while (n < sizeof line - 1 && time(NULL) < deadline) {
		if (poll(&p, 1, 1000) <= 0)
			continue;
		if ((r = read(fd, line + n, 1)) <= 0)
			return -1;
		if (line[n] == '\n') {
			line[n] = '\0';
			*port = atoi(line);
			return *port > 0 ? 0 : -1;
		}
		n++;
	}
	return -1;
}

static int start_fake(void)
{
	char *argv[] = { "python3", SK_TEST_SRCDIR "/tests/helpers/aws-metadata-fake.py", "--container-token",
	                 "container-auth-token", NULL };
	int pipefd[2], fds[3] = { -1, -1, -1 }, port = 0, rc;
	sigset_t none;

	sigemptyset(&none);
	if (pipe(pipefd) < 0)
		return -1;
	fds[1] = pipefd[1];
	fds[2] = open(in_dir("fake.log"), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	rc = sk_spawn_io(argv, &none, &none, fds, 0, &fake_pid);
	close(pipefd[1]);
	close(fds[2]);
	if (rc == 0)
		rc = read_port(pipefd[0], &port);
	close(pipefd[0]);
	snprintf(fake_url, sizeof fake_url, "http://127.0.0.1:%d", port);
	return rc;
}

static void stop_fake(void)
{
	if (fake_pid > 0) {
		kill(fake_pid, SIGTERM);
		waitpid(fake_pid, NULL, 0);
	}
}

static void test_container(void)
{
	const sk_aws_creds *c;
	char url[128];
	sk_err e;

	clean_env();
	snprintf(url, sizeof url, "%s/container/v2/credentials", fake_url);
	setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", url, 1);
	setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "container-auth-token", 1);
	is_int(chain(&c, &e), 0, "container: credentials from the endpoint, with its token");
	is_creds(c, "ASIACONTAINERKEY", "container-secret-value", "container-session-token", "container", "container");
	ok(c && c->expires > time(NULL) + 3000, "container: Expiration is read");

	unsetenv("AWS_CONTAINER_AUTHORIZATION_TOKEN");
	write_file("token", "container-auth-token\n");
	setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", in_dir("token"), 1);
	is_int(chain(&c, &e), 0, "container: the token from AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
	is_str(c ? c->access_key_id : NULL, "ASIACONTAINERKEY", "container: token file, final newline dropped");

	write_file("token", "wrong-auth-token");
	is_error(chain(&c, &e), &e, EX_CONFIG, "container credentials endpoint: HTTP status 401", "wrong-auth-token",
	         "container: a token the endpoint refuses");

	setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://example.com/creds?secret=in-url", 1);
	is_error(chain(&c, &e), &e, EX_CONFIG, "AWS_CONTAINER_CREDENTIALS_FULL_URI: not an https URL", "in-url",
	         "container: plain http to another host");

	setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", url, 1);
	write_file("token", "container-auth-token");
	unsetenv("AWS_EC2_METADATA_DISABLED");
	setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", fake_url, 1);
	is_int(chain(&c, &e), 0, "precedence: container and instance metadata");
	is_str(c ? c->source : NULL, "container", "precedence: the container before instance metadata");
}

static size_t discard(char *d, size_t size, size_t n, void *arg)
{
	return size * n;
}

/* The fake's own contract, which makes the IMDS test mean "the token was
 * sent": a GET without one is refused. */
static long fake_status(const char *path)
{
	char url[256];
	long status = 0;
	CURL *h = curl_easy_init();

	snprintf(url, sizeof url, "%s%s", fake_url, path);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
	if (curl_easy_perform(h) == CURLE_OK)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(h);
	return status;
}

/* A port nothing listens on: one the system gave, then closed. */
static int dead_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0), port = 1;
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t n = sizeof a;

	if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
	    getsockname(fd, (struct sockaddr *)&a, &n) == 0)
		port = ntohs(a.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

static void test_imds(void)
{
	const sk_aws_creds *c;
	char url[64];
	int64_t t0;
	sk_err e;

	is_int(fake_status("/latest/meta-data/iam/security-credentials/"), 401,
	       "the IMDS fake refuses a GET without a session token");
	clean_env();
	unsetenv("AWS_EC2_METADATA_DISABLED");
	setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", fake_url, 1);
	is_int(chain(&c, &e), 0, "instance metadata: IMDSv2, token then role then credentials");
	is_creds(c, "ASIAIMDSKEY", "imds-secret-value", "imds-session-token", "instance metadata",
	         "instance metadata");
	ok(c && c->expires > time(NULL) + 3000, "instance metadata: Expiration is read");

	snprintf(url, sizeof url, "http://127.0.0.1:%d/", dead_port());
	setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", url, 1);
	t0 = sk_now_ms();
	is_error(chain(&c, &e), &e, EX_CONFIG,
	         "no AWS credentials: tried environment, profile default, instance metadata (", "imds-secret-value",
	         "instance metadata: no endpoint");
	ok(sk_now_ms() - t0 < 3000, "instance metadata: an endpoint that is not there fails fast");

	setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", fake_url, 1);
	setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
	is_error(chain(&c, &e), &e, EX_CONFIG, "no AWS credentials: tried environment, profile default",
	         "imds-secret-value", "instance metadata: disabled");
	ok(strstr(e.msg, "instance metadata") == NULL, "instance metadata: disabled, it is not asked");
}

int main(void)
{
	if (mkdtemp(dir) == NULL) {
		printf("Bail out! mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	test_times();
	test_environment();
	test_profiles();
	test_region();
	test_credential_process();
	if (ok(start_fake() == 0, "the fake metadata endpoints start and say their port")) {
		test_container();
		test_imds();
	}
	stop_fake();
	sk_aws_provider_free(provider);
	if (tap_failed == 0) {
		char rm[128];
		snprintf(rm, sizeof rm, "rm -rf '%s'", dir);
		if (system(rm) != 0)
			printf("# could not remove %s\n", dir);
	}
	return tap_done();
}
