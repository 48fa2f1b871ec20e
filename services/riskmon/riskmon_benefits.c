/*  riskmon_benefits.c: the benefits realisation alert.

    The planner keeps the benefits register and judges realisation against
    the profile with the lag threshold its PMO units set (their planner
    policy); every change of a benefit is a "benefit.*" event on its
    division's stream carrying the benefit with its realisation. The risk
    monitor reads those events like the registry's: each is applied to the
    health inputs of every project the benefit is linked to (the newest
    version of a benefit wins, so a replay or a late duplicate changes
    nothing), and a lagging benefit fires a "benefit_lagging" rule that
    raises an alert of kind benefit_lagging for that benefit with the alert
    machinery every alert has (severity, assignee, acknowledge, escalation
    up the PMO structure, the cool-down before it resolves, the notifier's
    feed). It resolves when the planner says the benefit no longer lags (a
    measurement back on profile, the benefit closed or realised). The rule
    does not change the project's colours: it is about the business case,
    not delivery, and it holds for projects already closed, whose benefits
    are still being realised.
*/
#include "riskmon_benefits.h"

#include <string.h>

bool riskmon_apply_benefit (Pmo__HealthInputs *in, const Pmo__Benefit *b, pmo_arena_t *arena)
{
    Pmo__BenefitFlag *flag = NULL;
    for (size_t i = 0; i < in->n_benefits && !flag; i++)
        if (strcmp (in->benefits[i]->id, b->id) == 0)
            flag = in->benefits[i];
    if (flag && flag->version >= b->version)
        return false;
    if (!flag) {
        Pmo__BenefitFlag **grown = pmo_arena_alloc (arena, (in->n_benefits + 1) * sizeof (void *));
        if (in->n_benefits)
            memcpy (grown, in->benefits, in->n_benefits * sizeof (void *));
        flag = pmo_arena_alloc (arena, sizeof (Pmo__BenefitFlag));
        pmo__benefit_flag__init (flag);
        grown[in->n_benefits++] = flag;
        in->benefits = grown;
    }
    //  The planner judged it (its threshold, closed benefits not tracked)
    const Pmo__BenefitRealisation *r = b->realisation;
    //  Still linked to this project? (an update may have dropped the link)
    bool linked = false;
    for (size_t i = 0; i < b->n_project_ids && !linked; i++)
        linked = strcmp (b->project_ids[i], in->project_id) == 0;
    flag->id = pmo_arena_strdup (arena, b->id);
    flag->version = b->version;
    flag->title = pmo_arena_strdup (arena, b->title ? b->title : "");
    flag->owner = pmo_arena_strdup (arena, b->owner ? b->owner : "");
    flag->lagging = r && r->lagging && linked;
    flag->dis_benefit = b->dis_benefit;
    flag->period = pmo_arena_strdup (arena, r && r->period ? r->period : "");
    flag->ratio = r ? r->ratio : 0;
    flag->threshold = r ? r->threshold : 0;
    flag->overdue = r && r->overdue;
    flag->overdue_period =
        pmo_arena_strdup (arena, r && r->overdue_period ? r->overdue_period : "");
    return true;
}

size_t riskmon_benefit_rules (const Pmo__HealthInputs *in, pmo_arena_t *arena,
                              Pmo__FiredRule ***rules)
{
    Pmo__FiredRule **list = pmo_arena_alloc (arena, (in->n_benefits + 1) * sizeof (void *));
    size_t n = 0;
    for (size_t i = 0; i < in->n_benefits; i++) {
        const Pmo__BenefitFlag *flag = in->benefits[i];
        if (!flag->lagging)
            continue;
        Pmo__FiredRule *f = pmo_arena_alloc (arena, sizeof (Pmo__FiredRule));
        pmo__fired_rule__init (f);
        f->rule = "benefit_lagging";
        f->dimension = "benefits";
        bool measured = !pmo_str_empty (flag->period);
        //  Red when it is half way off: less than half the expected change
        //  realised (a dis-benefit: more than half as bad again)
        bool far = flag->dis_benefit ? flag->ratio > 1.5 : flag->ratio < 0.5;
        f->rag = measured && !flag->overdue && far ? PMO__RAG__RAG_RED : PMO__RAG__RAG_AMBER;
        f->subject_id = flag->id;
        f->value = flag->ratio;
        f->threshold = flag->dis_benefit ? 1.0 + flag->threshold : 1.0 - flag->threshold;
        if (flag->overdue)
            f->detail = pmo_arena_printf (
                arena, "benefit '%s' (%s, owner %s): no measurement since its profile's %s",
                flag->title, flag->id, flag->owner, flag->overdue_period);
        else
            f->detail = pmo_arena_printf (
                arena,
                "%s '%s' (%s, owner %s) lags its profile at %s: %.0f %% of the expected "
                "change (the alert is up %s %.0f %%)",
                flag->dis_benefit ? "dis-benefit" : "benefit", flag->title, flag->id, flag->owner,
                flag->period, flag->ratio * 100.0, flag->dis_benefit ? "above" : "below",
                f->threshold * 100.0);
        list[n++] = f;
    }
    *rules = list;
    return n;
}
