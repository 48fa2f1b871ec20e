#!/usr/bin/env bash
# deploy/demo.sh: load a demo portfolio into the registry with pmoctl.
#
# PMO_DEMO=gmpp (the default): the real UK Government Major Projects
# Portfolio 2019 (deploy/data/gmpp-2019.csv, Open Government Licence v3.0):
# an enterprise hub "HM Government" with the 16 departments as divisions and
# their 133 projects, imported with `pmoctl import` and the mapping in
# deploy/data/gmpp-mapping.json (every rating and cost as published, every
# date moved by the same number of days so that the snapshot is last
# quarter's; figures withheld under FOI stay empty). Importing is
# idempotent: a second run in the same quarter finds every row unchanged.
# Then generated data that GMPP does not publish (deploy/data/gen_demo.py,
# fixed seed): 192 people with skills in the departments, 180 risks (some
# critical) and 34 issues, and, relative to today, about 280 bookings (some
# over-allocating people) and a current status report with PV/EV/AC for every
# live project, all
# through `pmoctl import` into the allocator and the risk monitor; and for the
# planner (deploy/data/gen_planner.py, fixed seed): the hub's scoring model,
# every live project scored, benefits with profiles and measurements (some
# lagging) for about 7 in 10, and a base-case scenario.
#
# PMO_DEMO=acme: a small invented group instead:
# Acme Group: a directive hub PMO on the enterprise unit, three division
# spokes (Finance and Technology controlling, Operations supportive), a
# portfolio per division, two programmes, fourteen projects in GBP over
# 2026-2027 with milestones, status reports (some on track, some behind) and
# a few gate transitions and decisions.
#
# deploy/pmo up runs it once, on first start. It is safe to run again: what
# exists already (org units, portfolios, programmes, projects, looked up by
# id or code) is left alone, and a project's milestones, reports and gates
# are only added when the project is created by this run.
#
# Environment: PMOCTL (default build/services/pmoctl/pmoctl under the repo,
# else pmoctl on PATH); PMO_REGISTRY_ENDPOINT and the other PMO_* settings
# pass through to pmoctl; PMO_HUB is the enterprise unit's id (default hub);
# PMO_DEMO_SCORED=N: planner scores and benefits for the first N projects
# only (default 0: every one; the rest of the demo is loaded in full).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [[ -n ${PMOCTL:-} ]]; then
    :
elif [[ -x $ROOT/build/services/pmoctl/pmoctl ]]; then
    PMOCTL="$ROOT/build/services/pmoctl/pmoctl"
else
    PMOCTL="$(command -v pmoctl || true)"
fi
[[ -n $PMOCTL && -x $PMOCTL ]] || {
    echo "demo: pmoctl not found: build first (./deploy/pmo build) or set PMOCTL" >&2
    exit 1
}
HUB="${PMO_HUB:-hub}"
# Structure is set up as the operator; decisions and reports are made by
# the people whose job they are, so the events name them.
export PMO_GRANTS="${PMO_GRANTS:-admin@$HUB}"
DIRECTOR=(--as dana.reyes@acme --grant "pmo_director@$HUB")

log() { echo "demo: $*"; }
die() {
    echo "demo: $*" >&2
    exit 1
}

pmoctl() { "$PMOCTL" "$@"; }

# exists ARGS...: the get succeeds (0) or finds nothing (1); anything else
# (no registry, refused) stops the demo
exists() {
    local rc=0 err
    err="$("$PMOCTL" "$@" 2>&1 >/dev/null)" || rc=$?
    case $rc in
    0) return 0 ;;
    1) [[ $err == *not_found* ]] && return 1 ;;
    esac
    die "pmoctl $* failed (exit $rc): $err"
}

# ensure_ou ID ARGS...
ensure_ou() {
    local id="$1"
    shift
    if exists ou get "$id"; then
        log "org unit $id exists"
    else
        pmoctl ou create --id "$id" "$@"
    fi
}

# ensure GROUP CODE ARGS...: a portfolio or programme by code
ensure() {
    local group="$1" code="$2"
    shift 2
    if exists "$group" get "$code"; then
        log "$group $code exists"
    else
        pmoctl "$group" create --code "$code" "$@"
    fi
}

# project CODE ARGS...: sets NEW=true if this run created it
project() {
    local code="$1"
    shift
    NEW=false
    if exists project get "$code"; then
        log "project $code exists; its milestones, reports and gates are left as they are"
    else
        pmoctl project create --code "$code" --currency GBP "$@"
        NEW=true
    fi
}

# milestone CODE NAME BASELINE [FORECAST [ACTUAL]]
milestone() {
    local args=(milestone add --project "$1" --name "$2" --baseline "$3")
    [[ -n ${4:-} ]] && args+=(--forecast "$4")
    [[ -n ${5:-} ]] && args+=(--actual "$5")
    pmoctl "${args[@]}"
}

# report PM GRANT CODE PERIOD-END ARGS...: a status report by the project manager
report() {
    local who="$1" grant="$2" code="$3" period="$4"
    shift 4
    pmoctl --as "$who" --grant "$grant" report submit --project "$code" --period-end "$period" "$@"
}

pmoctl ping >/dev/null || die "the registry does not answer (pmoctl ping)"

# --- the real portfolio: GMPP 2019 ---------------------------------------------------

DEMO="${PMO_DEMO:-gmpp}"
if [[ $DEMO == gmpp ]]; then
    log "loading the UK Government Major Projects Portfolio 2019 into the registry at ${PMO_REGISTRY_ENDPOINT:-tcp://127.0.0.1:7101}"
    ensure_ou "$HUB" --name "HM Government" --kind enterprise --pmo-type directive --tier hub \
        --reporting-days 91
    # The 2019 snapshot placed today: every date moved by the same number of
    # days so that its period end (31 March 2019) is the end of last quarter
    # (deploy/data/gen_demo.py placed; deploy/data/README.md says how).
    # The departments become divisions (named in the mapping); a re-run the
    # same quarter changes nothing. A problem row stops the whole import.
    DATA="$ROOT/deploy/data"
    TMP="$(mktemp -d)"
    trap 'rm -rf "$TMP"' EXIT
    python3 "$DATA/gen_demo.py" placed "$DATA/gmpp-2019.csv" "$DATA/gmpp-mapping.json" "$TMP"
    pmoctl import "$TMP/gmpp-placed.csv" --mapping "$TMP/gmpp-placed-mapping.json" \
        --create-org-units --hub "$HUB"
    # What GMPP does not publish, generated with a fixed seed
    # (deploy/data/gen_demo.py): ~200 people in the departments, risks (some
    # critical) and issues on the projects (committed CSV files); then
    # bookings from this week on (some people over-allocated) and a current
    # status report with PV/EV/AC for every live project (its RAG drifting
    # from the GMPP rating), generated now because they only make sense
    # relative to today.
    if pmoctl allocator ping >/dev/null 2>&1 && pmoctl riskmon ping >/dev/null 2>&1; then
        pmoctl import "$DATA/demo-resources.csv" --entity resource
        pmoctl import "$DATA/demo-risks.csv" --entity risk
        pmoctl import "$DATA/demo-issues.csv" --entity issue
        pmoctl export project --no-bom --out "$TMP/projects.csv"
        python3 "$DATA/gen_demo.py" dated "$TMP/projects.csv" "$TMP"
        pmoctl import "$TMP/demo-allocations.csv" --entity allocation
        pmoctl import "$TMP/demo-reports.csv" --mapping "$DATA/demo-reports-mapping.json"
    else
        log "the allocator or the risk monitor does not answer: people, bookings, risks and" \
            "issues are not loaded (run deploy/demo.sh again once they are up)"
    fi
    # Scores and benefits for the planner (GMPP publishes neither: generated
    # with a fixed seed per project by deploy/data/gen_planner.py), the hub's
    # scoring model, and a base-case scenario; once (the hub's model marks it)
    if pmoctl planner ping >/dev/null 2>&1; then
        if pmoctl --json planner policy --org-unit "$HUB" | grep -q '"criteria_from": *"'"$HUB"'"'; then
            log "the planner already has the demo's scores and benefits"
        else
            pmoctl --json project list --all >"$TMP/projects.json"
            python3 "$DATA/gen_planner.py" "$TMP/projects.json" "$TMP/planner"
            pmoctl planner policy --org-unit "$HUB" --file "$TMP/planner/policy.json" >/dev/null
            # One pmoctl call per score and per benefit (about 200): most of
            # the demo's time. PMO_DEMO_SCORED=N scores and registers
            # benefits for the first N projects only (test_quickstart: 10)
            scored="${PMO_DEMO_SCORED:-0}"
            n=0
            while IFS=$'\t' read -r -a args; do
                ((scored == 0 || n < scored)) || break
                pmoctl score set "${args[@]}" >/dev/null
                n=$((n + 1))
            done <"$TMP/planner/scores.tsv"
            b=0
            for f in "$TMP"/planner/benefit-*.json; do
                ((scored == 0 || b < scored)) || break
                pmoctl benefit create --file "$f" >/dev/null
                b=$((b + 1))
            done
            log "planner: $n projects scored, $b benefits registered"
            # (not piped into head: pipefail would count pmoctl's SIGPIPE)
            pmoctl scenario solve --file "$TMP/planner/scenario.json" >"$TMP/planner/solved.txt"
            head -n 2 "$TMP/planner/solved.txt"
        fi
    else
        log "the planner does not answer: scores and benefits are not loaded (run" \
            "deploy/demo.sh again once it is up)"
    fi
    log "done"
    pmoctl ou list
    pmoctl report --format csv --table units
    exit 0
fi
[[ $DEMO == acme ]] || die "PMO_DEMO is gmpp or acme, not '$DEMO'"
log "loading the Acme Group demo into the registry at ${PMO_REGISTRY_ENDPOINT:-tcp://127.0.0.1:7101}"

# --- org structure -------------------------------------------------------------

ensure_ou "$HUB" --name "Acme Group" --kind enterprise --pmo-type directive --tier hub \
    --reporting-days 14 \
    --gate planning:charter,business_case \
    --gate execution:resource_plan,budget_baseline
ensure_ou fin --name "Finance" --kind division --parent "$HUB" --pmo-type controlling --tier spoke
ensure_ou fin-fpa --name "Financial Planning & Analysis" --kind department --parent fin
ensure_ou ops --name "Operations" --kind division --parent "$HUB" --pmo-type supportive --tier spoke
ensure_ou ops-log --name "Logistics" --kind department --parent ops
ensure_ou it --name "Technology" --kind division --parent "$HUB" --pmo-type controlling \
    --tier spoke --reporting-days 7
ensure_ou it-infra --name "Infrastructure" --kind department --parent it
ensure_ou it-apps --name "Applications" --kind department --parent it

# --- portfolios and programmes -------------------------------------------------------

ensure portfolio FIN-PF --name "Finance Transformation" --org-unit fin --owner "Chief Financial Officer" \
    --description "Ledger, payables, planning and treasury systems"
ensure portfolio OPS-PF --name "Operational Excellence" --org-unit ops --owner "Chief Operating Officer" \
    --description "Warehousing, fleet and shop-floor improvement"
ensure portfolio IT-PF --name "Technology Platforms" --org-unit it --owner "Chief Technology Officer" \
    --description "Infrastructure, identity and core applications"
ensure programme FIN-ERP --name "Finance ERP Modernisation" --org-unit fin --portfolio FIN-PF \
    --sponsor "Helen Marsh (CFO)" --manager "Tom Becker"
ensure programme IT-CLOUD --name "Cloud Migration" --org-unit it --portfolio IT-PF \
    --sponsor "Raj Patel (CTO)" --manager "Priya Shah"

# --- enterprise (directive hub) ------------------------------------------------------

project HUB-2026-001 --name "Enterprise PPM rollout" --org-unit "$HUB" \
    --description "One portfolio tool and reporting cycle for every division" \
    --sponsor "Dana Reyes" --manager "Chris Lowe" --methodology hybrid --status approved \
    --priority 1 --strategic-score 95 --start 2026-03-02 --finish 2027-02-26 \
    --budget 640,000.00 --actual 212,400.00 --forecast-cost 655,000.00 \
    --benefits-planned 1,100,000.00 --artifacts charter,business_case,resource_plan
if $NEW; then
    milestone HUB-2026-001 "Tool selected" 2026-05-29 2026-05-29 2026-05-27
    milestone HUB-2026-001 "Pilot in Finance" 2026-09-30 2026-10-16 2026-10-14
    milestone HUB-2026-001 "All divisions live" 2027-02-26 2027-02-26
    pmoctl "${DIRECTOR[@]}" project decide HUB-2026-001 --to planning --outcome go \
        --why "Charter and business case approved by the executive committee"
    pmoctl "${DIRECTOR[@]}" project decide HUB-2026-001 --to execution --outcome conditional_go \
        --why "Resource plan agreed; budget baseline to follow the vendor contract" \
        --waive budget_baseline --conditions "Budget baseline signed off by 2026-06-30"
    report chris.lowe@acme "project_manager@$HUB" HUB-2026-001 2026-10-30 --overall green \
        --schedule green --cost green --scope green --resources amber --percent 38 \
        --pv 230,000.00 --ev 226,500.00 --ac 212,400.00 \
        --narrative "Finance pilot live two weeks late; rollout plan for ops and IT agreed"
fi

# --- Finance (controlling spoke) -----------------------------------------------------

project FIN-2026-001 --name "General ledger replacement" --org-unit fin --programme FIN-ERP \
    --description "Replace the 2009 ledger with a cloud ERP general ledger" \
    --sponsor "Helen Marsh" --manager "Sam Okafor" --methodology prince2 --status approved \
    --priority 1 --strategic-score 90 --start 2026-01-05 --finish 2027-03-31 \
    --forecast-finish 2027-05-28 --budget 1,250,000.00 --actual 640,000.00 \
    --forecast-cost 1,380,000.00 --benefits-planned 2,000,000.00 \
    --artifacts charter,business_case
if $NEW; then
    milestone FIN-2026-001 "Design approved" 2026-03-31 2026-04-15 2026-04-14
    milestone FIN-2026-001 "Data migration rehearsal" 2026-09-30 2026-11-20
    milestone FIN-2026-001 "Parallel run complete" 2027-02-26 2027-04-30
    milestone FIN-2026-001 "Go-live" 2027-03-31 2027-05-28
    pmoctl project phase FIN-2026-001 --to planning --why "Business case approved by the Finance PMO"
    pmoctl project update FIN-2026-001 --add-artifact resource_plan --add-artifact budget_baseline
    pmoctl project phase FIN-2026-001 --to execution --why "Baseline and resource plan in place"
    report sam.okafor@acme project_manager@fin FIN-2026-001 2026-09-30 --overall amber \
        --schedule amber --cost amber --scope green --resources green --percent 41 \
        --pv 520,000.00 --ev 468,000.00 --ac 545,000.00 \
        --narrative "Design slipped two weeks; migration tooling late from the vendor"
    report sam.okafor@acme project_manager@fin FIN-2026-001 2026-10-30 --overall red \
        --schedule red --cost amber --scope green --resources amber --percent 46 \
        --pv 610,000.00 --ev 540,000.00 --ac 640,000.00 \
        --narrative "Migration rehearsal moved to November; go-live forecast now end of May 2027"
fi

project FIN-2026-002 --name "Procure-to-pay automation" --org-unit fin --programme FIN-ERP \
    --sponsor "Helen Marsh" --manager "Lena Fischer" --methodology agile --status approved \
    --priority 2 --strategic-score 70 --start 2026-04-01 --finish 2026-12-18 \
    --budget 480,000.00 --actual 290,000.00 --forecast-cost 495,000.00 \
    --benefits-planned 600,000.00 --depends-on FIN-2026-001 \
    --artifacts charter,business_case,resource_plan,budget_baseline
if $NEW; then
    milestone FIN-2026-002 "Invoice capture live" 2026-07-31 2026-07-31 2026-07-30
    milestone FIN-2026-002 "Three-way match live" 2026-11-30 2026-12-11
    pmoctl project phase FIN-2026-002 --to planning --why "Sprint zero done"
    pmoctl project phase FIN-2026-002 --to execution --why "Backlog and budget baselined"
    report lena.fischer@acme project_manager@fin FIN-2026-002 2026-10-30 --overall amber \
        --schedule amber --cost green --scope green --resources green --percent 62 \
        --pv 300,000.00 --ev 285,000.00 --ac 290,000.00 \
        --narrative "Supplier master data clean-up slower than planned"
fi

project FIN-2026-003 --name "Rolling forecast model" --org-unit fin-fpa --portfolio FIN-PF \
    --sponsor "Mark Hughes" --manager "Aisha Khan" --methodology agile --status proposed \
    --priority 3 --strategic-score 55 --start 2026-09-01 --finish 2027-03-31 \
    --budget 150,000.00 --benefits-planned 220,000.00 --artifacts charter
if $NEW; then
    milestone FIN-2026-003 "Driver model agreed" 2026-12-18
    milestone FIN-2026-003 "First rolling forecast" 2027-03-31
fi

project FIN-2027-001 --name "Treasury management system" --org-unit fin --portfolio FIN-PF \
    --sponsor "Helen Marsh" --manager "Sam Okafor" --methodology waterfall --status on_hold \
    --priority 4 --strategic-score 40 --start 2027-01-11 --finish 2027-10-29 \
    --budget 350,000.00
if $NEW; then
    milestone FIN-2027-001 "Vendor selected" 2027-03-31
fi

# --- Operations (supportive spoke) ---------------------------------------------------

project OPS-2026-001 --name "Warehouse automation" --org-unit ops-log --portfolio OPS-PF \
    --description "Goods-to-person picking in the Leeds and Bristol sites" \
    --sponsor "Grace Obi" --manager "Daniel Novak" --methodology waterfall --status approved \
    --priority 1 --strategic-score 85 --start 2026-02-02 --finish 2027-01-29 \
    --forecast-finish 2027-04-30 --budget 2,200,000.00 --actual 820,000.00 \
    --forecast-cost 2,450,000.00 --benefits-planned 3,100,000.00 \
    --artifacts charter,business_case,resource_plan
if $NEW; then
    milestone OPS-2026-001 "Leeds site survey" 2026-03-27 2026-03-27 2026-03-26
    milestone OPS-2026-001 "Leeds robots commissioned" 2026-09-30 2026-12-18
    milestone OPS-2026-001 "Bristol live" 2027-01-29 2027-04-30
    pmoctl project phase OPS-2026-001 --to planning --why "Approved by the Operations board"
    # supportive PMO: a missing budget baseline only warns
    pmoctl project phase OPS-2026-001 --to execution --why "Contracts signed"
    report daniel.novak@acme project_manager@ops OPS-2026-001 2026-10-30 --overall red \
        --schedule red --cost amber --scope green --resources red --percent 34 \
        --pv 900,000.00 --ev 760,000.00 --ac 820,000.00 \
        --narrative "Robot delivery slipped ten weeks; integrator short of engineers"
fi

project OPS-2026-002 --name "Fleet telematics" --org-unit ops-log --portfolio OPS-PF \
    --sponsor "Grace Obi" --manager "Maria Costa" --methodology agile --status active \
    --priority 2 --strategic-score 60 --start 2026-05-04 --finish 2026-12-18 \
    --budget 310,000.00 --actual 180,500.00 --benefits-planned 450,000.00 \
    --artifacts charter,business_case,resource_plan,budget_baseline
if $NEW; then
    milestone OPS-2026-002 "Pilot: 40 vans" 2026-07-31 2026-07-31 2026-07-29
    milestone OPS-2026-002 "Whole fleet fitted" 2026-12-18 2026-12-11
    pmoctl project phase OPS-2026-002 --to planning
    pmoctl project phase OPS-2026-002 --to execution
    report maria.costa@acme project_manager@ops OPS-2026-002 2026-10-30 --overall green \
        --schedule green --cost green --scope green --resources green --percent 71 \
        --pv 190,000.00 --ev 198,000.00 --ac 180,500.00 \
        --narrative "Fitting ahead of plan; fuel savings visible in the pilot"
fi

project OPS-2026-003 --name "Lean shop floor" --org-unit ops --portfolio OPS-PF \
    --sponsor "Grace Obi" --manager "Ken Adams" --methodology hybrid --status proposed \
    --priority 3 --strategic-score 50 --start 2026-11-02 --finish 2027-06-30 \
    --budget 120,000.00
if $NEW; then
    milestone OPS-2026-003 "Value-stream maps" 2027-01-29
fi

project OPS-2027-001 --name "Supplier portal" --org-unit ops --portfolio OPS-PF \
    --sponsor "Grace Obi" --manager "Ken Adams" --methodology agile --status proposed \
    --priority 4 --strategic-score 45 --start 2027-02-01 --finish 2027-09-30 \
    --budget 260,000.00 --artifacts charter
if $NEW; then
    pmoctl "${DIRECTOR[@]}" project decide OPS-2027-001 --to planning --outcome hold \
        --why "Wait for the group supplier strategy (due Q1 2027)"
fi

# --- Technology (controlling spoke, weekly reporting) ---------------------------------

project IT-2026-001 --name "Data centre exit" --org-unit it-infra --programme IT-CLOUD \
    --description "Move 420 workloads out of the Slough data centre before the lease ends" \
    --sponsor "Raj Patel" --manager "Priya Shah" --methodology hybrid --status approved \
    --priority 1 --strategic-score 92 --start 2026-02-02 --finish 2027-06-30 \
    --budget 4,500,000.00 --actual 1,750,000.00 --forecast-cost 4,420,000.00 \
    --benefits-planned 6,800,000.00 \
    --artifacts charter,business_case,resource_plan,budget_baseline
if $NEW; then
    milestone IT-2026-001 "Landing zone ready" 2026-04-30 2026-04-30 2026-04-28
    milestone IT-2026-001 "Wave 1: 120 workloads" 2026-09-30 2026-09-30 2026-09-25
    milestone IT-2026-001 "Wave 2: 180 workloads" 2027-01-29 2027-01-29
    milestone IT-2026-001 "Data centre empty" 2027-06-30 2027-06-30
    pmoctl project phase IT-2026-001 --to planning --why "Business case approved"
    pmoctl project phase IT-2026-001 --to execution --why "Waves planned and funded"
    report priya.shah@acme project_manager@it IT-2026-001 2026-10-23 --overall green \
        --schedule green --cost green --scope green --resources amber --percent 40 \
        --pv 1,800,000.00 --ev 1,810,000.00 --ac 1,750,000.00 \
        --narrative "Wave 1 complete; wave 2 discovery under way"
    report priya.shah@acme project_manager@it IT-2026-001 2026-10-30 --overall green \
        --schedule green --cost green --scope green --resources amber --percent 42 \
        --pv 1,880,000.00 --ev 1,885,000.00 --ac 1,822,000.00 \
        --narrative "Two wave 2 applications need re-platforming; contingency holds"
fi

project IT-2026-002 --name "Identity and access modernisation" --org-unit it-infra \
    --portfolio IT-PF --sponsor "Raj Patel" --manager "Omar Farouk" --methodology waterfall \
    --status approved --priority 2 --strategic-score 80 --start 2026-06-01 --finish 2027-03-31 \
    --budget 900,000.00 --actual 260,000.00 --depends-on IT-2026-001 \
    --artifacts charter,business_case
if $NEW; then
    milestone IT-2026-002 "SSO for top 20 apps" 2026-10-30 2026-11-27
    milestone IT-2026-002 "Legacy directory retired" 2027-03-31
    pmoctl project phase IT-2026-002 --to planning --why "Security board approved the design"
    report omar.farouk@acme project_manager@it IT-2026-002 2026-10-30 --overall amber \
        --schedule amber --cost green --scope amber --resources green --percent 28 \
        --pv 300,000.00 --ev 255,000.00 --ac 260,000.00 \
        --narrative "Two suppliers late with SAML support; scope change under review"
fi

project IT-2026-003 --name "Service desk replacement" --org-unit it-apps --portfolio IT-PF \
    --sponsor "Raj Patel" --manager "Zoe Clarke" --methodology agile --status approved \
    --priority 3 --strategic-score 60 --start 2026-04-01 --finish 2026-12-31 \
    --budget 800,000.00 --artifacts charter,business_case,resource_plan,budget_baseline
if $NEW; then
    milestone IT-2026-003 "Incident module live" 2026-08-31 2026-08-31 2026-08-28
    milestone IT-2026-003 "Change module live" 2026-12-31 2026-12-18
    pmoctl project phase IT-2026-003 --to planning
    pmoctl project phase IT-2026-003 --to execution
    report zoe.clarke@acme project_manager@it IT-2026-003 2026-10-30 --overall green \
        --schedule green --cost green --scope green --resources green --percent 80 \
        --pv 600,000.00 --ev 615,000.00 \
        --narrative "Incident module stable; actual cost awaits the supplier's invoice"
fi

project IT-2026-004 --name "Customer app rebuild" --org-unit it-apps --programme IT-CLOUD \
    --sponsor "Raj Patel" --manager "Ben Ito" --methodology agile --status proposed \
    --priority 2 --strategic-score 75 --start 2026-11-02 --finish 2027-08-31 \
    --budget 1,100,000.00 --benefits-planned 1,500,000.00 --artifacts charter
if $NEW; then
    milestone IT-2026-004 "Architecture agreed" 2026-12-18
    milestone IT-2026-004 "Public beta" 2027-05-28
fi

project IT-2027-001 --name "Network refresh" --org-unit it-infra --portfolio IT-PF \
    --sponsor "Raj Patel" --manager "Omar Farouk" --methodology waterfall --status proposed \
    --priority 3 --strategic-score 50 --start 2027-01-04 --finish 2027-12-17 \
    --budget 750,000.00
if $NEW; then
    milestone IT-2027-001 "Site surveys" 2027-03-31
fi

log "done"
pmoctl ou list
pmoctl project list --all
