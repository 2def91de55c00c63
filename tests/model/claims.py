#!/usr/bin/env python3
"""Exhaustive model check of the claim protocol of ec2-runner-pool(7).

An explicit-state model of the pool's instances (their tags), their agents
(libexec/agent.sh and agent-sigv4.sh), the claimants (bin/pool-claim.c inside
libexec/provision), the releases (libexec/release) and the reaper
(bin/pool-reap.c), explored breadth-first over every interleaving of their
steps up to a bound, with state hashing.  Each step is one atomic read or
one atomic write of one instance's tags (a batched call is one step per
instance: weaker than EC2, which may apply it at once).  Agents read their
own tags through instance metadata, a view that lags the API by up to LAG
writes and never goes back; every other party reads the API.  Time is
abstract: any deadline may pass and any claim may go stale at any moment.

Invariants, checked in every reachable state:
  one-run   an instance is held by at most one run (held: its provision
            returned with it and its release has not begun), and the
            instance's runner is registered for that run (or it is gone);
  count     once a run's provision returned, at most its count of
            instances are granted to it (claimed or running, no release
            request on them);
  release   once a run's release has seen itself complete, no instance has
            the run's id in a live state or its runner registered for it,
            ever after (so none is granted to it later);
  stuck     no state where every metadata view has caught up, no agent
            would do anything but read, and an instance is neither serving
            a run, idle without claims, nor gone.

Protocols: withdraw-request (the default, the code today): a claimant
withdraws a claim with a release request, which only the agent answers;
fixed (earlier): the agent drops a released run's claims, a claimant
deletes its claim to withdraw it; old (before that): neither.

Usage: claims.py [--instances N] [--runs N] [--counts C,..] [--crashes N]
                 [--lag K] [--protocol withdraw-request|fixed|old] [--names]
                 [--quiet]
Exit status: 0 every invariant holds, 1 a counterexample (printed, the
shortest), 100 usage.
"""
import sys
import time
from collections import deque

# ---- the code each step stands for -----------------------------------------
# (file, function or tool); tests/0920-model.bats checks that each still
# exists, so the model and the code stay the same protocol.  The agent is
# two files: the protocol loop (agent.sh) and the signer (agent-sigv4.sh),
# whose rp_aws sends each of its writes, the grant among them.
WHERE = {
    'agent-top': ('libexec/agent.sh', 'rp_md'),
    'agent-grant-read': ('libexec/agent.sh', 'rp_grant'),
    'agent-precheck': ('libexec/agent.sh', 'rp_precheck'),
    'agent-grant': ('libexec/agent-sigv4.sh', 'rp_aws'),
    'agent-serve': ('libexec/agent.sh', 'rp_serve'),
    'agent-release': ('libexec/agent.sh', 'rp_release'),
    'agent-halt': ('libexec/agent.sh', 'rp_halt'),
    'agent-crash': ('libexec/agent.sh', 'rp_runner_alive'),
    'claim-list': ('bin/pool-list.c', 'main'),
    'claim-add': ('bin/pool-claim.c', 'add_claims'),
    'claim-readback': ('bin/pool-claim.c', 'judge'),
    'claim-giveup': ('bin/pool-claim.c', 'give_up'),
    'claim-timeout': ('bin/pool-claim.c', 'claim_loop'),
    'claim-stop': ('bin/pool-claim.c', 'claim_loop'),
    'claim-withdraw': ('bin/pool-claim.c', 'ask_release'),
    'claim-withdrawn': ('bin/pool-claim.c', 'withdraw'),
    'claim-return': ('bin/pool-claim.c', 'print_owned'),
    'claim-handback': ('bin/pool-claim.c', 'ask_release'),
    'provision-ready': ('libexec/provision', 'ready'),
    'provision-late': ('libexec/provision', 'ready'),
    'provision-fail': ('libexec/provision', 'fail'),
    'provision-die': ('libexec/provision', 'trap'),
    'release-list': ('libexec/release', 'pool-list'),
    'release-request': ('libexec/release', 'pool-tag'),
    'release-wait': ('libexec/release', 'pending'),
    'reap': ('bin/pool-reap.c', 'judge'),
    'time': ('libexec/agent.sh', 'rp_num'),
}

LIVE = ('created', 'claimed', 'running')
GONE = 'gone'
# deadline phases: before the deadline, past it, past it plus grace
BEFORE, PAST, GRACE = 0, 1, 2


class Model:
    def __init__(self, ninst, counts, crashes, lag, fixed, wreq=False):
        self.wreq = wreq
        self.n = ninst
        self.counts = counts
        self.nruns = len(counts)
        self.crashes = crashes
        self.lag = lag
        self.fixed = fixed

    # A state: (insts, agents, claimants, releases, crashes left)
    #  inst:     (api, pend, phase, stale) or None when terminated; api and
    #            each of pend (the writes metadata has not shown yet, oldest
    #            first) are snapshots (state, run, claims, releases), run 0
    #            for none, claims and releases frozensets of run numbers
    #  agent:    (pc, registered run, run at hand, tags to delete)
    #  claimant: (pc, per instance '-' not a candidate, 'U' untried,
    #            'P' pending, 'O' owned, 'L' lost; kept, todo)
    #  release:  (pc, todo)
    def initial(self):
        snap = ('idle', 0, frozenset(), frozenset())
        insts = tuple((snap, (), BEFORE, frozenset()) for _ in range(self.n))
        agents = tuple(('top', 0, 0, frozenset(), 0) for _ in range(self.n))
        cls = tuple(('start', '-' * self.n, frozenset(), ())
                    for _ in range(self.nruns))
        rels = tuple(('no', ()) for _ in range(self.nruns))
        return (insts, agents, cls, rels, self.crashes)

    # ---- tags ---------------------------------------------------------------
    @staticmethod
    def view(inst):
        api, pend = inst[0], inst[1]
        return pend[0] if pend else api

    def write(self, inst, snap):
        api, pend, phase, stale = inst
        if snap == api:
            return inst
        if self.lag == 0:
            pend = ()
        elif len(pend) < self.lag:
            pend = pend + (api,)
        else:
            pend = pend[1:] + (api,)
        return (snap, pend, phase, stale)

    # ---- successors ---------------------------------------------------------
    def steps(self, s):
        """Yield (label, kind, next state); kind names the WHERE entry."""
        insts, agents, cls, rels, left = s
        for i in range(self.n):
            yield from self.agent_steps(s, i)
            inst = insts[i]
            if inst is None:
                continue
            if inst[2] < GRACE:
                ni = (inst[0], inst[1], inst[2] + 1, inst[3])
                yield ('time: i%d %s' % (i, 'past its deadline' if inst[2] == BEFORE
                                         else 'past deadline + grace'),
                       'time', put(s, 0, i, ni))
            if inst[2] == GRACE or inst[0][0] == 'terminating':
                yield ('pool-reap terminates i%d' % i, 'reap', put(s, 0, i, None))
        for r in range(1, self.nruns + 1):
            yield from self.claimant_steps(s, r)
            yield from self.release_steps(s, r)

    # ---- the agent (libexec/agent.sh, agent-sigv4.sh) -----------------------
    def agent_steps(self, s, i):
        insts, agents, cls, rels, left = s
        inst = insts[i]
        if inst is None:
            return
        pc, reg, run, seen, rec = agents[i]
        api, pend, phase, stale = inst
        v = self.view(inst)

        def agent(pc2, reg2=reg, run2=0, seen2=frozenset(), ni=inst, rec2=rec):
            s2 = put(s, 0, i, ni)
            return put(s2, 1, i, (pc2, reg2, run2, seen2, rec2))

        if left and (pc != 'top' or run or seen):
            yield ('agent i%d crashes (restarts at the top of its loop)' % i,
                   'agent-crash', dec(agent('top')))
        if pc not in ('top', 'precheck', 'serve-reg'):
            yield from self.agent_do(s, i, inst)
            return
        # a read: of the API as it is, or as it was up to LAG writes ago, never
        # older than what this agent read last (metadata does not go back)
        for j in range(len(pend) + 1):
            ni = (api, pend[j:], phase, stale)
            for label, kind, t in self.agent_do(put(s, 0, i, ni), i, ni):
                if j < len(pend):
                    label += ' [metadata %d write%s behind]' % (
                        len(pend) - j, 's' if len(pend) - j > 1 else '')
                yield label, kind, t

    def agent_do(self, s, i, inst):
        insts, agents, cls, rels, left = s
        pc, reg, run, seen, rec = agents[i]
        api, pend, phase, stale = inst
        v = self.view(inst)

        def agent(pc2, reg2=reg, run2=0, seen2=frozenset(), ni=inst, rec2=rec):
            s2 = put(s, 0, i, ni)
            return put(s2, 1, i, (pc2, reg2, run2, seen2, rec2))

        if pc == 'top':
            st, vrun, claims, relq = v
            if phase == GRACE:
                yield ('agent i%d: past deadline + grace: halt' % i,
                       'agent-halt', put(s, 0, i, None))
                return
            if vrun and st != 'idle' and vrun in relq:
                st = 'releasing'
            if st in ('created', 'claimed'):
                if vrun:
                    yield ('agent i%d reads %s run %d: serve' % (i, st, vrun),
                           'agent-top', agent('serve-reg', run2=vrun))
            elif st == 'idle':
                if self.fixed and rec and not reg:
                    # a grant it recorded (on its disk) before writing it,
                    # and a crash interrupted: finished, never replaced
                    yield ('agent i%d reads idle, finishes its grant to run %d'
                           % (i, rec), 'agent-grant',
                           agent('grant', run2=rec, seen2=frozenset({('claim', rec)})))
                elif phase == BEFORE and not reg:
                    yield from self.grant_read(i, v, stale, agent)
            elif st == 'releasing':
                yield ('agent i%d reads release of run %d' % (i, vrun),
                       'agent-top', agent('rel-state', run2=vrun))
            elif st == 'terminating':
                yield ('agent i%d reads terminating: halt' % i, 'agent-halt',
                       put(s, 0, i, None))
            return
        if pc == 'drop':
            yield ('agent i%d deletes %s' % (i, fmtd(seen)), 'agent-grant-read',
                   agent('top', ni=self.write(inst, delete(api, seen))))
            return
        if pc == 'precheck':
            ok = run in v[2] and not (self.fixed and run in v[3])
            if ok:
                yield ('agent i%d precheck: claim of run %d still there%s' % (
                           i, run, ', records the grant' if self.fixed else ''),
                       'agent-precheck', agent('grant', run2=run, seen2=seen,
                                               rec2=run if self.fixed else 0))
            else:
                yield ('agent i%d precheck: claim of run %d gone%s' %
                       (i, run, ' or released' if self.fixed else ''),
                       'agent-precheck', agent('top'))
            return
        if pc == 'grant':
            snap = ('claimed', run, api[2], api[3])
            ni = self.write(inst, snap)
            ni = (ni[0], ni[1], BEFORE, ni[3])
            yield ('agent i%d GRANTS run %d (state=claimed run-id=%d)' % (i, run, run),
                   'agent-grant', agent('grant-del', run2=run, seen2=seen, ni=ni))
            return
        if pc == 'grant-del':
            yield ('agent i%d deletes %s' % (i, fmtd(seen)), 'agent-grant',
                   agent('serve-reg', run2=run,
                         ni=self.write(inst, delete(api, seen))))
            return
        if pc == 'serve-reg':
            # registering is local; the read after it is the step
            if v[0] == 'releasing' or run in v[3]:
                yield ('agent i%d registers for run %d, reads it handed back'
                       % (i, run), 'agent-serve', agent('top', reg2=run))
            else:
                yield ('agent i%d registers for run %d, reads no release' % (i, run),
                       'agent-serve', agent('serve-run', reg2=run, run2=run))
            return
        if pc == 'serve-run':
            snap = ('running', api[1], api[2], api[3])
            yield ('agent i%d writes running (run %d)' % (i, run), 'agent-serve',
                   agent('top', ni=self.write(inst, snap)))
            return
        if pc == 'rel-state':
            snap = ('releasing', api[1], api[2], api[3])
            yield ('agent i%d writes releasing (run %d)%s' % (
                       i, run, ', forgets its grant' if rec else ''),
                   'agent-release', agent('rel-idle', run2=run, rec2=0,
                                          ni=self.write(inst, snap)))
            return
        if pc == 'rel-idle':
            # stopping and deregistering the runner is local
            snap = ('idle', 0, api[2], api[3])
            ni = self.write(inst, snap)
            ni = (ni[0], ni[1], BEFORE, ni[3])
            yield ('agent i%d deregisters, writes idle, run-id cleared' % i,
                   'agent-release', agent('rel-del', reg2=0, run2=run, ni=ni))
            return
        if pc == 'rel-del':
            snap = (api[0], api[1], api[2], api[3] - {run})
            if self.fixed:
                # with its claim, if a crash left one: never one without
                # the other once the run asked for its release
                snap = delete(snap, {('claim', run)})
            yield ('agent i%d deletes release:%d%s' % (
                       i, run, ' and claim:%d' % run if self.fixed else ''), 'agent-release',
                   agent('top', ni=self.write(inst, snap)))
            return
        raise AssertionError(pc)

    def grant_read(self, i, v, stale, agent):
        if True:
            _, _, claims, relq = v
            fresh = sorted(r for r in claims - stale
                           if not (self.fixed and r in relq))
            drop = frozenset(('claim', r) for r in claims)
            if self.fixed:
                # a claim of a released run is dropped with its request
                drop |= frozenset(('release', r) for r in relq)
            if fresh:
                # earliest claim: time, then run id (abstracted: run id)
                yield ('agent i%d sees claims %s%s: best run %d' %
                       (i, fmt(claims), rq(relq), fresh[0]), 'agent-grant-read',
                       agent('precheck', run2=fresh[0], seen2=drop))
            elif drop:
                yield ('agent i%d sees claims %s%s: none to grant' %
                       (i, fmt(claims), rq(relq)), 'agent-grant-read',
                       agent('drop', seen2=drop))
            else:
                yield ('agent i%d reads idle, no claim' % i, 'agent-grant-read',
                       agent('top'))

    # ---- a claimant: pool-claim inside libexec/provision --------------------

    def request_release(self, s, insts, k, r):
        """s with a release:r request written on instance k, if it is
        still there (pool-tag --set release:RUN, from provision or release)."""
        inst = insts[k]
        if inst is None:
            return s
        snap = inst[0]
        return put(s, 0, k, self.write(inst, (snap[0], snap[1], snap[2],
                                              snap[3] | {r})))

    def request_withdraw(self, s, insts, k, r):
        """s with run r's claim on instance k withdrawn, if it is still
        there (see withdraw())."""
        if insts[k] is None:
            return s
        return put(s, 0, k, self.withdraw(insts[k], r))

    def claimant_steps(self, s, r):
        insts, agents, cls, rels, left = s
        pc, cand, kept, todo = cls[r - 1]
        want = self.counts[r - 1]

        def cl(pc2, cand2=cand, kept2=kept, todo2=todo, s0=s):
            return put(s0, 2, r - 1, (pc2, cand2, kept2, todo2))

        def first_of_todo(kind, act, label):
            """The step on the first instance left in todo, one at a time
            in pc: act (request_release or request_withdraw) writes on it;
            label names the step ({r} the run, {k} the instance, {how} how
            a claim is withdrawn)."""
            k = todo[0]
            return (label.format(r=r, k=k, how=self.how()), kind,
                    cl(pc, todo2=todo[1:], s0=act(s, insts, k, r)))

        if pc in ('returned', 'failed', 'dead'):
            return
        if left:
            yield ('provision of run %d is killed' % r, 'provision-die',
                   dec(cl('dead')))
        if pc == 'start':
            c = ''.join('U' if x is not None and x[0][0] == 'idle' and x[2] == BEFORE
                        else '-' for x in insts)
            if 'U' in c:
                yield ('run %d lists idle candidates %s' % (r, ids(c, 'U')),
                       'claim-list', cl('loop', c))
            else:
                # none idle: it launches (instances outside the model)
                yield ('run %d finds no idle instance: launches' % r,
                       'claim-list', cl('ready', c))
            return
        if pc == 'loop':
            owned, pending = cand.count('O'), cand.count('P')
            if owned >= want or (pending == 0 and 'U' not in cand):
                yield ('run %d stops claiming' % r, 'claim-stop',
                       cl('wd', todo2=tuple(k for k, x in enumerate(cand)
                                           if x in 'PL')))
                return
            if want - owned - pending > 0:
                for k, x in enumerate(cand):
                    if x == 'U':
                        c2 = setc(cand, k, 'P')
                        inst = insts[k]
                        if inst is None:
                            c2 = setc(cand, k, 'L')
                            yield ('run %d claims i%d: NotFound' % (r, k),
                                   'claim-add', cl('loop', c2))
                            continue
                        snap = inst[0]
                        snap = (snap[0], snap[1], snap[2] | {r}, snap[3])
                        ni = self.write(inst, snap)
                        ni = (ni[0], ni[1], ni[2], ni[3] - {r})
                        yield ('run %d adds claim:%d to i%d' % (r, r, k), 'claim-add',
                               cl('loop', c2, s0=put(s, 0, k, ni)))
            if pending:
                c2 = self.judge(insts, cand, r, ('P',))
                yield ('run %d reads back: %s' % (r, show(c2)), 'claim-readback',
                       cl('loop', c2))
                for k, x in enumerate(cand):
                    if x == 'P':
                        yield ('run %d gives up its claim on i%d (no answer)' % (r, k),
                               'claim-giveup', cl('loop', setc(cand, k, 'L')))
            yield ('run %d: claim timeout' % r, 'claim-timeout',
                   cl('wd', todo2=tuple(k for k, x in enumerate(cand) if x in 'PL')))
            return
        if pc == 'wd':
            if todo:
                yield first_of_todo('claim-withdraw', self.request_withdraw,
                                    'run {r} withdraws its claim on i{k}{how}')
                return
            if self.wreq:
                # no look after: a grant landing now is its agent's to
                # hand back (pool-claim's last look is a read-back of the
                # loop, before the withdrawal)
                c2 = ''.join('L' if x == 'P' else x for x in cand)
                owned = [k for k, x in enumerate(c2) if x == 'O']
                kept2 = frozenset(owned[:want])
                yield ('run %d has withdrawn: owns %s' % (r, show(c2)),
                       'claim-withdrawn', cl('hb', c2, kept2, tuple(owned[want:])))
                return
            tried = any(x in 'PL' for x in cand)
            c2 = ''.join('P' if x == 'L' else x for x in cand)
            if tried:
                # late grants become owned
                c2 = self.judge(insts, c2, r, ('P', 'O'))
            c2 = ''.join('L' if x == 'P' else x for x in c2)
            owned = [k for k, x in enumerate(c2) if x == 'O']
            kept2 = frozenset(owned[:want])
            yield ('run %d reads back once more: %s' % (r, show(c2)),
                   'claim-readback', cl('hb', c2, kept2, tuple(owned[want:])))
            return
        if pc == 'hb':
            if todo:
                yield first_of_todo('claim-handback', self.request_release,
                                    'run {r} hands i{k} back: release:{r}')
            else:
                yield ('run %d: pool-claim returns %s' % (r, fmt(kept)),
                       'claim-return', cl('ready'))
            return
        if pc == 'ready':
            if all(insts[k] is not None and insts[k][0][0] == 'running'
                   and insts[k][0][1] == r for k in kept):
                extra = tuple(k for k, x in enumerate(insts)
                              if k not in kept and cand[k] != '-' and x is not None
                              and x[0][1] == r and x[0][0] in LIVE)
                yield ('run %d: all ready; late grants %s' % (r, fmt(extra)),
                       'provision-ready', cl('late', todo2=extra))
            if self.wreq:
                # one list of the pool: a release request on each instance
                # with a claim of the run or granted to it
                mine = tuple(k for k, x in enumerate(insts) if x is not None and (
                    r in x[0][2] or (x[0][1] == r and x[0][0] in LIVE)))
                yield ('run %d: provision times out: fail, lists its claims and '
                       'instances %s' % (r, fmt(mine)), 'provision-fail',
                       cl('fail-rel', todo2=mine))
                return
            yield ('run %d: provision times out: fail' % r, 'provision-fail',
                   cl('fail-wd', todo2=tuple(k for k, x in enumerate(cand) if x != '-')))
            return
        if pc == 'late':
            if todo:
                yield first_of_todo('provision-late', self.request_release,
                                    'run {r} hands late grant i{k} back')
            else:
                yield ('run %d: provision RETURNS %s' % (r, fmt(kept)),
                       'provision-ready', cl('returned'))
            return
        if pc == 'fail-wd':
            if todo:
                yield first_of_todo('provision-fail', self.request_withdraw,
                                    'run {r} (failing) withdraws its claim on i{k}{how}')
            else:
                mine = tuple(k for k, x in enumerate(insts)
                             if x is not None and x[0][1] == r and x[0][0] in LIVE)
                yield ('run %d (failing) lists its instances %s' % (r, fmt(mine)),
                       'provision-fail', cl('fail-rel', todo2=mine))
            return
        if pc == 'fail-rel':
            if todo:
                yield first_of_todo('provision-fail', self.request_release,
                                    'run {r} (failing) hands i{k} back')
            else:
                yield ('run %d: provision FAILS' % r, 'provision-fail', cl('failed'))
            return
        raise AssertionError(pc)

    def withdraw(self, inst, r):
        """A claimant withdraws its claim: it asks the agent to
        (release:RUN), so that a grant in flight is handed back, and only
        the agent removes a claim; before (fixed, old), it deleted the
        claim tag."""
        snap = inst[0]
        if self.wreq:
            return self.write(inst, (snap[0], snap[1], snap[2], snap[3] | {r}))
        return self.write(inst, delete(snap, {('claim', r)}))

    def how(self):
        return ' (release request)' if self.wreq else ' (deletes the claim)'

    @staticmethod
    def judge(insts, cand, r, which):
        """pool-claim's judge() over the API for candidates in 'which'."""
        out = list(cand)
        for k, x in enumerate(cand):
            if x not in which:
                continue
            inst = insts[k]
            if inst is not None and inst[0][1] == r and inst[0][0] in ('claimed', 'running'):
                out[k] = 'O'
            elif x == 'P' and (inst is None or inst[0][0] != 'idle' or r not in inst[0][2]):
                out[k] = 'L'
        return ''.join(out)

    # ---- a release: libexec/release -----------------------------------------
    def release_steps(self, s, r):
        insts, agents, cls, rels, left = s
        pc, todo = rels[r - 1]

        def rel(pc2, todo2=(), s0=s):
            return put(s0, 3, r - 1, (pc2, todo2))

        if pc in ('done', 'dead'):
            return
        if pc == 'no':
            # the release job needs the provision job: it starts once the
            # provision has ended (returned, failed or killed)
            if cls[r - 1][0] not in ('returned', 'failed', 'dead'):
                return
            mine = tuple(k for k, x in enumerate(insts) if x is not None and (
                (x[0][1] == r and x[0][0] in LIVE) or (self.fixed and r in x[0][2])))
            yield ('release of run %d lists %s' % (r, fmt(mine)), 'release-list',
                   rel('tag', mine))
            return
        if left:
            pass
        if pc == 'tag':
            if todo:
                k = todo[0]
                s2 = self.request_release(s, insts, k, r)
                yield ('release of run %d requests release:%d on i%d' % (r, r, k),
                       'release-request', rel('tag', todo[1:], s0=s2))
            else:
                yield ('release of run %d waits' % r, 'release-request', rel('wait'))
            return
        if pc == 'wait':
            left_ = [k for k, x in enumerate(insts) if x is not None and (
                (x[0][1] == r and x[0][0] in LIVE + ('releasing',)) or
                (self.fixed and x[0][0] == 'idle' and r in x[0][2]))]
            if not left_:
                yield ('release of run %d sees it COMPLETE' % r, 'release-wait',
                       rel('done'))
            return
        raise AssertionError(pc)

    # ---- invariants ---------------------------------------------------------
    def check(self, s):
        """None, or the name and detail of an invariant s breaks."""
        insts, agents, cls, rels, left = s
        holders = {}
        for r in range(1, self.nruns + 1):
            pc, cand, kept, _ = cls[r - 1]
            if pc != 'returned' or rels[r - 1][0] != 'no':
                continue
            for k in kept:
                holders.setdefault(k, []).append(r)
        for k, hs in holders.items():
            if len(hs) > 1:
                return ('one-run', 'i%d is held by runs %s' % (k, fmt(hs)))
            if insts[k] is not None and agents[k][1] != hs[0]:
                return ('one-run', 'i%d is held by run %d but its runner is %s'
                        % (k, hs[0], 'run %d' % agents[k][1] if agents[k][1]
                           else 'not registered'))
        for r in range(1, self.nruns + 1):
            if cls[r - 1][0] == 'returned':
                g = [k for k, x in enumerate(insts) if x is not None and x[0][1] == r
                     and x[0][0] in ('claimed', 'running') and r not in x[0][3]]
                if len(g) > self.counts[r - 1]:
                    return ('count', 'run %d asked for %d and holds %s' %
                            (r, self.counts[r - 1], fmt(g)))
            if rels[r - 1][0] == 'done':
                for k, x in enumerate(insts):
                    if x is None:
                        continue
                    if x[0][1] == r and x[0][0] in LIVE + ('releasing',):
                        return ('release', 'run %d was released, and i%d is %s for it'
                                % (r, k, x[0][0]))
                    if agents[k][1] == r:
                        return ('release', 'run %d was released, and the runner of '
                                'i%d is registered for it' % (r, k))
        return None

    def stuck(self, s):
        """The instance stuck in s (views caught up, its agent only
        reads), or None."""
        # with every metadata view caught up
        insts = tuple(x if x is None else (x[0], (), x[2], x[3]) for x in s[0])
        s = (insts,) + s[1:]
        agents = s[1]
        for i in range(self.n):
            x = insts[i]
            if x is None or agents[i][0] != 'top' or self.acts(s, i):
                continue
            st, run, claims, relq = x[0]
            if st == 'idle' and not claims:
                continue
            if st == 'running' and run and agents[i][1] == run and run not in relq:
                continue
            if x[2] != BEFORE and st == 'idle':
                continue    # past its deadline: it halts when time passes
            return 'i%d: %s run %d claims %s releases %s, agent idle' % (
                i, st, run, fmt(claims), fmt(relq))
        return None

    def acts(self, s, i):
        """Would agent i, alone from the top of its loop, change anything
        but its program counter before it is back at the top?"""
        seen = set()
        todo = [s]
        while todo:
            t = todo.pop()
            for label, kind, u in self.agent_steps(t, i):
                if kind == 'agent-crash':
                    continue
                if u[0] != s[0] or u[1][i][1] != s[1][i][1]:
                    return True
                if u[1][i][0] != 'top' and u not in seen:
                    seen.add(u)
                    todo.append(u)
        return False


# ---- helpers ------------------------------------------------------------------
def put(s, part, idx, val):
    t = s[part]
    t = t[:idx] + (val,) + t[idx + 1:]
    return s[:part] + (t,) + s[part + 1:]


def dec(s):
    return s[:4] + (s[4] - 1,)


def setc(c, k, x):
    return c[:k] + x + c[k + 1:]


def delete(snap, what):
    claims = snap[2] - {r for (w, r) in what if w == 'claim'}
    relq = snap[3] - {r for (w, r) in what if w == 'release'}
    return (snap[0], snap[1], claims, relq)


def fmt(xs):
    return '{' + ','.join(str(x) for x in sorted(xs)) + '}'


def fmtd(what):
    return ' '.join('%s:%d' % wr for wr in sorted(what)) or 'nothing'


def rq(relq):
    return ' and release requests %s' % fmt(relq) if relq else ''


def ids(c, x):
    return fmt('i%d' % k for k, y in enumerate(c) if y == x)


def show(c):
    return ' '.join('i%d=%s' % (k, x) for k, x in enumerate(c) if x != '-')


def explore(m, quiet=False, limit=None):
    """BFS; returns (states, edges, counterexample or None)."""
    s0 = m.initial()
    parent = {s0: None}
    q = deque([s0])
    edges = 0
    while q:
        s = q.popleft()
        bad = m.check(s)
        if bad is None:
            why = m.stuck(s)
            if why:
                bad = ('stuck', why)
        if bad:
            return len(parent), edges, (bad, trace(parent, s))
        for label, kind, t in m.steps(s):
            edges += 1
            if t not in parent:
                parent[t] = (s, label, kind)
                q.append(t)
        if limit and len(parent) > limit:
            raise SystemExit('claims.py: more than %d states' % limit)
    return len(parent), edges, None


def trace(parent, s):
    out = []
    while parent[s] is not None:
        p, label, kind = parent[s]
        out.append((label, kind))
        s = p
    return out[::-1]


def main(argv):
    import argparse
    ap = argparse.ArgumentParser(prog='claims.py', description=__doc__.split('\n')[0])
    ap.add_argument('--instances', type=int, default=1)
    ap.add_argument('--runs', type=int, default=None)
    ap.add_argument('--counts', default=None,
                    help='instances each run asks for, comma-separated (default 1 each)')
    ap.add_argument('--crashes', type=int, default=1)
    ap.add_argument('--lag', type=int, default=1)
    ap.add_argument('--protocol', choices=('withdraw-request', 'fixed', 'old'),
                    default='withdraw-request',
                    help='withdraw-request: the code today, claimants withdraw '
                    'a claim with a release request; fixed: the agent drops a '
                    'released run\'s claims, claimants delete theirs; old: '
                    'before either')
    ap.add_argument('--names', action='store_true',
                    help='print FILE FUNCTION for every kind of step and exit')
    ap.add_argument('--quiet', action='store_true')
    try:
        a = ap.parse_args(argv)
    except SystemExit as e:
        return 0 if e.code == 0 else 100
    if a.names:
        for f, fn in sorted(set(WHERE.values())):
            print(f, fn)
        return 0
    if a.counts:
        counts = [int(x) for x in a.counts.split(',')]
    else:
        counts = [1] * (a.runs if a.runs is not None else 1)
    if a.runs is not None and a.runs != len(counts):
        print('claims.py: --runs %d but %d counts' % (a.runs, len(counts)), file=sys.stderr)
        return 100
    if not (1 <= a.instances <= 4 and 1 <= len(counts) <= 4 and 0 <= a.crashes <= 3
            and 0 <= a.lag <= 3 and all(1 <= c <= 4 for c in counts)):
        print('claims.py: bound out of range', file=sys.stderr)
        return 100
    m = Model(a.instances, counts, a.crashes, a.lag, a.protocol != 'old',
              a.protocol == 'withdraw-request')
    t0 = time.time()
    n, e, bad = explore(m)
    dt = time.time() - t0
    bound = ('protocol %s, %d instances, %d runs (counts %s), %d crash%s, lag %d'
             % (a.protocol, a.instances, len(counts), ','.join(map(str, counts)),
                a.crashes, '' if a.crashes == 1 else 'es', a.lag))
    if bad:
        (inv, detail), steps = bad
        print('claims.py: invariant %s broken: %s' % (inv, detail))
        print('claims.py: %s; shortest trace, %d steps:' % (bound, len(steps)))
        for j, (label, kind) in enumerate(steps, 1):
            f, fn = WHERE[kind]
            print('  %2d. %-62s [%s %s]' % (j, label, f.split('/')[-1], fn))
        print('claims.py: %d states explored before it, %.1f s' % (n, dt))
        return 1
    print('claims.py: %s: every invariant holds (one-run, count, release, stuck): '
          '%d states, %d transitions, %.1f s' % (bound, n, e, dt))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
