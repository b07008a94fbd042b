#!/usr/bin/env bash
# The mailsec CI job: check the intent, fail on drift of the committed output, and put the
# artefact diff against the base branch into the job summary.
#
#   mailsec-ci.sh <intent-dir> <generated-dir> [<base-ref>]
#
# Needs `mailsec` on PATH and, for the diff, a clone with the base ref fetched.
# Writes mailsec.sarif (for code scanning) in the current directory. The summary goes to
# $GITHUB_STEP_SUMMARY (GitHub), else $MAILSEC_SUMMARY, else mailsec-summary.md.
set -uo pipefail

intent="${1:?usage: mailsec-ci.sh <intent-dir> <generated-dir> [<base-ref>]}"
generated="${2:?usage: mailsec-ci.sh <intent-dir> <generated-dir> [<base-ref>]}"
base="${3:-}"
summary="${GITHUB_STEP_SUMMARY:-${MAILSEC_SUMMARY:-mailsec-summary.md}}"
failed=0

say() { printf '%s\n' "$*" >>"$summary"; }

# 1. Diagnostics: SARIF for the code-scanning upload, human text for the log.
mailsec --message-format sarif check "$intent" >mailsec.sarif
mailsec check "$intent" || failed=1

# 2. Layout and drift of the committed output.
mailsec fmt --check "$intent" || failed=1
mailsec build "$intent" --out "$generated" --check
case $? in
  0) ;;
  3) say "**mailsec:** \`$generated\` is not what the intent generates: run \`mailsec build $intent --out $generated\` and commit it."; failed=1 ;;
  *) failed=1 ;;
esac

# 3. What this change does to the artefacts, for the reviewer.
if [ -n "$base" ]; then
  diff_text="$(mailsec diff --git "$base" "$intent")"
  case $? in
    0) say "**mailsec:** no artefact changes against \`$base\`." ;;
    1)
      say "### mailsec: artefact changes against \`$base\`"
      say ""
      say '```'
      mailsec diff --git "$base" "$intent" --stat >>"$summary"
      say '```'
      say ""
      say "<details><summary>Unified diff</summary>"
      say ""
      say '```diff'
      printf '%s\n' "$diff_text" | sed -n '/^--- /,$p' >>"$summary"
      say '```'
      say "</details>"
      ;;
    *) say "**mailsec:** the diff against \`$base\` failed (see the job log)."; failed=1 ;;
  esac
fi

exit "$failed"
