#!/usr/bin/env bash
# Runs every test: builds the solution (which lays out the module in out/ChatterConnector), runs
# the xUnit suites, then the Pester suite when pwsh with Pester 5 is present, and ends with one
# line "N passed, N failed". Exits non-zero when anything failed.
set -uo pipefail
cd "$(dirname "$0")/.."

configuration="${CONFIGURATION:-Debug}"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT

if ! dotnet build ChatterConnector.sln -c "$configuration" -nologo -v quiet; then
  echo "Build failed."
  echo "0 passed, 1 failed"
  exit 1
fi

dotnet test ChatterConnector.sln -c "$configuration" --no-build -nologo 2>&1 | tee "$log"
status=${PIPESTATUS[0]}

passed=0; failed=0
while read -r p f; do
  passed=$((passed + p)); failed=$((failed + f))
done < <(sed -n 's/.*Failed: *\([0-9]*\), Passed: *\([0-9]*\),.*/\2 \1/p' "$log")

if command -v pwsh >/dev/null 2>&1 && pwsh -NoProfile -Command 'if (-not (Get-Module -ListAvailable Pester | Where-Object Version -ge 5.0.0)) { exit 1 }'; then
  echo "Running the Pester suite (tests/pester) on $(pwsh -NoProfile -Command '$PSVersionTable.PSVersion.ToString()')"
  if pwsh -NoProfile -Command '$c = New-PesterConfiguration; $c.Run.Path = "tests/pester"; $c.Run.PassThru = $true; $r = Invoke-Pester -Configuration $c; "PESTER {0} {1}" -f $r.PassedCount, $r.FailedCount; exit [int]($r.FailedCount -gt 0)' | tee "$log"; then :; else status=1; fi
  read -r p f < <(sed -n 's/^PESTER \([0-9]*\) \([0-9]*\)$/\1 \2/p' "$log")
  passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0}))
else
  echo "Pester suite skipped: pwsh with Pester 5 is not installed on this machine (the xUnit suites drive the module through the PowerShell engine instead)."
fi

if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
echo "$passed passed, $failed failed"
[ "$status" -eq 0 ] && [ "$failed" -eq 0 ]
