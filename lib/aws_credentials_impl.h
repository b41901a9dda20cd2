/* aws_credentials_impl.h - what the files of the credential chain share:
 * the environment as read once, the ~/.aws files' reader, the sources. */
#ifndef SK_AWS_CREDENTIALS_IMPL_H
#define SK_AWS_CREDENTIALS_IMPL_H

#include <stddef.h>
#include "aws_credentials.h"
#include "util.h"

/* The environment variables the chain reads, in sk_aws_env order. */
enum sk_aws_var {
	SK_AWS_ACCESS_KEY_ID, SK_AWS_SECRET_ACCESS_KEY, SK_AWS_SESSION_TOKEN,
	SK_AWS_PROFILE, SK_AWS_SHARED_CREDENTIALS_FILE, SK_AWS_CONFIG_FILE, SK_AWS_HOME,
	SK_AWS_CONTAINER_FULL_URI, SK_AWS_CONTAINER_RELATIVE_URI,
	SK_AWS_CONTAINER_TOKEN, SK_AWS_CONTAINER_TOKEN_FILE,
	SK_AWS_METADATA_DISABLED, SK_AWS_METADATA_ENDPOINT,
	SK_AWS_REGION, SK_AWS_DEFAULT_REGION,
	SK_AWS_NVARS
};

/* Copies of the variables (NULL when unset or empty). */
typedef struct sk_aws_env {
	char *var[SK_AWS_NVARS];
} sk_aws_env;

/* A source's answer: 0 with credentials, SK_AWS_NONE when it has none to
 * give (the chain goes on), -1 with e set when it failed (the chain
 * stops: a broken configuration is not skipped silently). */
#define SK_AWS_NONE 1

/* The keys of a profile the chain reads. */
enum sk_aws_key {
	SK_AWS_KEY_ID, SK_AWS_KEY_SECRET, SK_AWS_KEY_TOKEN, SK_AWS_KEY_PROCESS, SK_AWS_KEY_REGION,
	SK_AWS_NKEYS
};

/* One profile's keys as read from one file; value NULL when absent. */
typedef struct sk_aws_profile {
	int found;                     /* the file has the profile's section */
	char *value[SK_AWS_NKEYS];
	unsigned line[SK_AWS_NKEYS];
} sk_aws_profile;

/* The profile's section of one ~/.aws file in buf[0..len): [NAME] in
 * the credentials file, [profile NAME] (or [default] for "default") in
 * the config file. Read as the AWS CLI reads it (Python's configparser):
 * '=' or ':' between key and value, keys in any case, comment lines
 * starting with '#' or ';', indented lines continuing the key above
 * (nested settings such as `s3 =`). Sections of other profiles and
 * tools are not checked; a line of the profile's own section that is
 * none of these is an error "FILE:LINE: ..." (EX_CONFIG). A later
 * value of a key replaces an earlier one. */
int sk_aws_profile_parse(const char *buf, size_t len, const char *file, int config,
                         const char *name, sk_aws_profile *p, sk_err *e);
/* The same from the file at path; a missing file has no section. */
int sk_aws_profile_load(const char *path, int config, const char *name, sk_aws_profile *p, sk_err *e);
/* The profile's region in the config file; *region NULL when none. */
int sk_aws_region_from_config(const sk_aws_env *env, char **region, sk_err *e);
/* Zero the values and free them. */
void sk_aws_profile_clear(sk_aws_profile *p);

/* The ~/.aws file's path: the variable's value ("~/" expanded) or
 * $HOME/.aws/BASE. malloc'd; NULL with e set. */
char *sk_aws_file_path(const sk_aws_env *env, enum sk_aws_var var, const char *base, sk_err *e);
/* The profile's name: AWS_PROFILE or "default". */
const char *sk_aws_profile_name(const sk_aws_env *env);

/* Zero s and free it. */
void sk_aws_free_secret(char *s);
/* Zero b's bytes and free it. */
void sk_aws_buf_free_secret(sk_buf *b);
void sk_aws_creds_clear(sk_aws_creds *c);
/* Credentials from the JSON text[0..n) of a credential process
 * (token_key "SessionToken", Version 1 required) or a metadata endpoint
 * (token_key "Token"). what names the source in messages. */
int sk_aws_creds_from_json(const char *text, size_t n, const char *token_key, const char *what,
                           sk_aws_creds *c, sk_err *e);
/* "2026-12-06T21:00:00Z" (fraction and offset allowed) -> seconds. */
int sk_aws_parse_time(const char *s, time_t *t);

/* The sources. */
int sk_aws_from_profile(const sk_aws_env *env, sk_aws_creds *c, sk_err *e);
int sk_aws_from_process(const char *command, const char *profile, sk_aws_creds *c, sk_err *e);
int sk_aws_from_container(const sk_aws_env *env, sk_aws_creds *c, sk_err *e);
int sk_aws_from_imds(const sk_aws_env *env, sk_aws_creds *c, sk_err *e);

#endif
