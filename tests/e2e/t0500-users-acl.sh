#!/bin/bash
# Users, API tokens, ACL updates (valid and invalid paths), effective permissions, token limits.
. "$(dirname "$0")/lib.sh"

tapir user create alice@pbs --password 'alice-pw-1' --email alice@example.com >/dev/null
tapir user create bob@pam --comment "operator" >/dev/null
out=$(tapir user list --output-format json)
[ "$(json_get "$out" '[u["userid"] for u in j]')" = "['root@pam', 'alice@pbs', 'bob@pam']" ] || fail "user list: $out"
[ "$(json_get "$out" 'j[1]["email"]')" = alice@example.com ] || fail "email: $out"
[ "$(json_get "$out" 'j[1]["enable"]')" = True ] || fail "enable: $out"
[ "$(stat -c %a "$TAPIR_HOME/etc/shadow.json")" = 600 ] || fail "shadow.json must be 0600"
grep -q 'alice-pw-1' "$TAPIR_HOME/etc/shadow.json" && fail "plain password stored"

expect_fail "already exists" tapir user create alice@pbs
expect_fail "invalid user id" tapir user create alice
expect_fail "realm pbs" tapir user create carl@pam --password 'longenough'
expect_fail "unknown realm" tapir user create carl@ldap
expect_fail "invalid email" tapir user create carl@pbs --email nope
expect_fail "does not exist" tapir user update ghost@pbs --comment x
tapir user update alice@pbs --comment "backup admin" --enable 1
[ "$(json_get "$(tapir user list --output-format json)" 'j[1]["comment"]')" = "backup admin" ] || fail "update"

# tokens: the secret is printed once, as JSON, and only its hash is stored
tok=$(tapir user generate-token alice@pbs ci)
[ "$(json_get "$tok" 'j["tokenid"]')" = 'alice@pbs!ci' ] || fail "tokenid: $tok"
secret=$(json_get "$tok" 'j["value"]')
[ ${#secret} -eq 36 ] || fail "secret: $secret"
grep -q "$secret" "$TAPIR_HOME/etc/token.shadow" "$TAPIR_HOME/etc/user.json" && fail "plain secret stored"
expect_fail "already exists" tapir user generate-token alice@pbs ci
expect_fail "invalid token name" tapir user generate-token alice@pbs 'a b'
expect_fail "does not exist" tapir user generate-token ghost@pbs ci
[ "$(json_get "$(tapir user list-tokens alice@pbs --output-format json)" 'j[0]["tokenid"]')" = 'alice@pbs!ci' ] ||
	fail "list-tokens"

# ACLs: only the paths the ACL editor accepts; drives and changers live at /tape/device/NAME
tapir acl update /tape/pool/P TapeReader --auth-id alice@pbs
tapir acl update /tape/device/drive1 TapeOperator --auth-id alice@pbs
tapir acl update /datastore/s1 DatastoreReader --auth-id alice@pbs --propagate 0
expect_fail "invalid ACL path" tapir acl update /tape/drive/drive1 TapeReader --auth-id alice@pbs
expect_fail "invalid ACL path" tapir acl update /tape/changer/c1 TapeReader --auth-id alice@pbs
expect_fail "invalid ACL path" tapir acl update /bogus TapeReader --auth-id alice@pbs
expect_fail "unknown role" tapir acl update /tape Wizard --auth-id alice@pbs
expect_fail "does not exist" tapir acl update /tape TapeAudit --auth-id ghost@pbs
expect_fail "does not exist" tapir acl update /tape TapeAudit --auth-id 'alice@pbs!nope'
expect_fail "groups are currently not supported" tapir acl update /tape TapeAudit --group admins
expect_fail "missing --auth-id" tapir acl update /tape TapeAudit
expect_fail "expected 0 or 1" tapir acl update /tape TapeAudit --auth-id alice@pbs --propagate 2
acl=$(tapir acl list --output-format json)
[ "$(json_get "$acl" 'len(j)')" = 3 ] || fail "acl list: $acl"
[ "$(json_get "$acl" '[(e["path"], e["roleid"], e["propagate"]) for e in j]')" = \
  "[('/datastore/s1', 'DatastoreReader', False), ('/tape/device/drive1', 'TapeOperator', True), ('/tape/pool/P', 'TapeReader', True)]" ] ||
	fail "acl entries: $acl"
[ "$(json_get "$acl" 'j[0]["ugid"]')" = alice@pbs ] || fail "ugid: $acl"

perm() { tapir user permissions "$1" --path "$2" --output-format json; }
[ "$(json_get "$(perm alice@pbs /tape/pool/P)" 'sorted(j["/tape/pool/P"].keys())')" = "['Tape.Audit', 'Tape.Read']" ] ||
	fail "TapeReader on /tape/pool/P"
[ "$(json_get "$(perm alice@pbs /tape/pool/Q)" 'j["/tape/pool/Q"]')" = "{}" ] || fail "nothing on /tape/pool/Q"
[ "$(json_get "$(perm alice@pbs /tape/device/drive1)" '"Tape.Write" in j["/tape/device/drive1"]')" = True ] ||
	fail "TapeOperator on the drive"
# propagate 0: exact path only
[ "$(json_get "$(perm alice@pbs /datastore/s1)" '"Datastore.Read" in j["/datastore/s1"]')" = True ] || fail "exact"
[ "$(json_get "$(perm alice@pbs /datastore/s1/ns1)" 'j["/datastore/s1/ns1"]')" = "{}" ] || fail "propagate 0 leaked"
# root@pam has everything
[ "$(json_get "$(perm root@pam /system)" '"Sys.Modify" in j["/system"]')" = True ] || fail "root"

# a token never exceeds its user
tapir acl update / Admin --auth-id 'alice@pbs!ci'
[ "$(json_get "$(perm 'alice@pbs!ci' /tape/pool/P)" 'sorted(j["/tape/pool/P"].keys())')" = "['Tape.Audit', 'Tape.Read']" ] ||
	fail "token exceeds user on /tape/pool/P"
[ "$(json_get "$(perm 'alice@pbs!ci' /system)" 'j["/system"]')" = "{}" ] || fail "token exceeds user on /system"
tapir user permissions alice@pbs | grep -q "^Path: /tape/pool/P" || fail "text permissions"

# disabling the user removes every privilege
tapir user update alice@pbs --enable 0
[ "$(json_get "$(perm alice@pbs /tape/pool/P)" 'j["/tape/pool/P"]')" = "{}" ] || fail "disabled user"
tapir user update alice@pbs --enable 1

tapir acl update /tape/pool/P TapeReader --auth-id alice@pbs --delete
expect_fail "no ACL entry" tapir acl update /tape/pool/P TapeReader --auth-id alice@pbs --delete
[ "$(json_get "$(perm alice@pbs /tape/pool/P)" 'j["/tape/pool/P"]')" = "{}" ] || fail "delete"

# removing the user removes its tokens and ACL entries
tapir user remove alice@pbs
[ "$(json_get "$(tapir acl list --output-format json)" 'len(j)')" = 0 ] || fail "ACL entries left"
tapir user list | grep -q alice && fail "alice still listed"
expect_fail "does not exist" tapir user remove alice@pbs
expect_fail "cannot be removed" tapir user remove root@pam
tapir acl roles | grep -q '^TapeReader *Tape.Audit,Tape.Read$' || fail "roles"
echo "t0500 OK"
