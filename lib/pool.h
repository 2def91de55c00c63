/*
 * pool.h: the pool's tags, its states, and the JSON shape of an instance.
 *
 * Tags are the pool's only state (man/ec2-runner-pool.7, TAGS AND STATES):
 * every key starts with POOL_PREFIX and uses only characters instance
 * metadata can serve.  pool_instance_json() returns a new object the caller deletes.
 */
#ifndef POOL_H
#define POOL_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "buf.h"
#include "ec2.h"

#define POOL_PREFIX	"runner-pool:"
#define POOL_T_POOL	POOL_PREFIX "pool"
#define POOL_T_STATE	POOL_PREFIX "state"
#define POOL_T_RUN	POOL_PREFIX "run-id"
#define POOL_T_DEADLINE	POOL_PREFIX "deadline"
#define POOL_T_CLASS	POOL_PREFIX "class"
#define POOL_T_USAGE	POOL_PREFIX "usage"
#define POOL_T_CLAIM	POOL_PREFIX "claim:"
#define POOL_T_RELEASE	POOL_PREFIX "release:"	/* a request, by run */
#define POOL_T_RUNNER	POOL_PREFIX "runner"
#define POOL_T_PRE	POOL_PREFIX "pre-runner"
/* written by the agent: why it refuses to serve (absent while healthy) */
#define POOL_T_HEALTH	POOL_PREFIX "health"
/* written by the agent: the actions runner version it serves with */
#define POOL_T_RUNNER_VERSION	POOL_PREFIX "runner-version"
/* a request, by refresh: leave the pool once idle (runner version changed) */
#define POOL_T_RETIRE	POOL_PREFIX "retire"
/* on the launch template: the architecture of its default version's AMI */
#define POOL_T_ARCH	POOL_PREFIX "architecture"

/* {"id","pool","state","run_id","class","usage","instance_type","az",
 *  "subnet","launch_time","deadline","private_ip","ec2_state","lifecycle",
 *  "runner","runner_version","health","retire","claims":[{"run_id","at"}]} */
cJSON *pool_instance_json(const struct ec2_instance *);
/*
 * The same object appended to b as one line: the bytes of
 * cJSON_PrintUnformatted(pool_instance_json(in)) and a newline, without
 * building the object (pool-list prints thousands).  0 or -1.
 */
int pool_instance_write(struct buf *, const struct ec2_instance *);
/* The pool name: arg, else $RUNNER_POOL, else $GITHUB_REPOSITORY; checked. */
int pool_name(const char *arg, const char **out);
/* The pool's launch template name: "runner-pool/<pool>" into out. */
int pool_template_name(const char *pool, char *out, size_t outlen);
/* A pool's state tag value is one of the known states. */
int pool_state_valid(const char *);

#endif
