/*  notifier_escape.c: text from data (names, titles, narratives, facts)
    made inert for the markup of each receiver, so that it can never
    mention, link or format. Pure, like the rest of the model
    (notifier_model.h).

    Each rule follows the receiver's own documentation:
    - Slack mrkdwn ("Formatting text for app surfaces", "Escaping text"):
      &, < and > become &amp; &lt; &gt; (which also stops <!channel>,
      <@U…> and <url|text>). Slack has no escape for *, _, ~ and `: they
      become lookalikes (∗ ＿ ∼ ˋ; _ only where it could open or close
      italics, so ids like rk_dft_3 stay as they are). Section texts are
      also sent with "verbatim": true, so bare URLs are not linked.
    - Markdown (CommonMark, which Mattermost and the Adaptive Card
      TextBlock and FactSet follow; any ASCII punctuation may be
      backslash-escaped): inline markup (\ ` * [ ] < > ~ & |, and _ where
      it can open or close emphasis) anywhere, block markup (# - + > = and
      "1.") at the start of a line; "://" and "www." are broken with a
      backslash so bare URLs are not linked; for Mattermost an @ that could
      start a mention (@channel, @all, @here, @user) becomes ＠.
    - Plain text that a receiver might still parse (Mattermost's fallback
      and field titles, Google Chat's card header): an @ that could start
      a mention becomes ＠, < and > become ‹ ›. (A Mattermost attachment's
      title renders links: it is markdown.)
    - Google Chat message text ("Format text messages"): *, _, ~ and ` as
      for Slack; < and > (links <url|text> and mentions <users/all>) become
      ‹ ›; "://" gets a zero-width space so bare URLs are not linked.
    - Google Chat card text ("Format text in cards": a small HTML subset)
      and email HTML: &, <, > and " become entities.
*/
#include "notifier_model.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#define ZWSP "\xe2\x80\x8b" //  U+200B zero-width space

static bool s_word (char c)
{
    return isalnum ((unsigned char)c) || ((unsigned char)c & 0x80);
}

//  True if the _ at s[i] sits between two word characters (cannot open or
//  close emphasis).
static bool s_intraword (const char *s, size_t i)
{
    return i > 0 && s_word (s[i - 1]) && s_word (s[i + 1]);
}

//  True if s[i] ends a line's leading number ("12." would start a list).
static bool s_line_number (const char *s, size_t i)
{
    size_t j = i;
    while (j > 0 && isdigit ((unsigned char)s[j - 1]))
        j--;
    return j == 0 || s[j - 1] == '\n';
}

//  What the byte at s[i] becomes (perhaps written in buf); NULL if it stays.
static const char *s_replace (notifier_markup_t markup, const char *s, size_t i, char buf[3])
{
    char c = s[i];
    switch (markup) {
    case NOTIFIER_MARKUP_SLACK:
        switch (c) {
        case '&':
            return "&amp;";
        case '<':
            return "&lt;";
        case '>':
            return "&gt;";
        case '*':
            return "\xe2\x88\x97"; //  ∗ U+2217
        case '~':
            return "\xe2\x88\xbc"; //  ∼ U+223C
        case '`':
            return "\xcb\x8b"; //  ˋ U+02CB
        case '_':
            return s_intraword (s, i) ? NULL : "\xef\xbc\xbf"; //  ＿ U+FF3F
        default:
            return NULL;
        }
    case NOTIFIER_MARKUP_GCHAT_TEXT:
        switch (c) {
        case '<':
            return "\xe2\x80\xb9"; //  ‹ U+2039
        case '>':
            return "\xe2\x80\xba"; //  › U+203A
        case '*':
            return "\xe2\x88\x97";
        case '~':
            return "\xe2\x88\xbc";
        case '`':
            return "\xcb\x8b";
        case '_':
            return s_intraword (s, i) ? NULL : "\xef\xbc\xbf";
        case ':':
            return strncmp (s + i, "://", 3) == 0 ? ":" ZWSP : NULL;
        default:
            return NULL;
        }
    case NOTIFIER_MARKUP_MARKDOWN:
    case NOTIFIER_MARKUP_MATTERMOST:
        if (c == '@' && markup == NOTIFIER_MARKUP_MATTERMOST && (i == 0 || !s_word (s[i - 1])))
            return "\xef\xbc\xa0"; //  ＠ U+FF20
        if (c == ':' && strncmp (s + i, "://", 3) == 0)
            return "\\:";
        if (c == '.' && i >= 3 && strncasecmp (s + i - 3, "www.", 4) == 0)
            return "\\.";
        //  inline markup anywhere; _ only where it can open or close
        //  emphasis; block markup (# - + > 1.) only at the start of a line
        if ((c && strchr ("\\`*[]<>~&|", c)) || (c == '_' && !s_intraword (s, i)) ||
            ((i == 0 || s[i - 1] == '\n') && c && strchr ("#-+>=", c)) ||
            (c == '.' && i > 0 && isdigit ((unsigned char)s[i - 1]) && s_line_number (s, i))) {
            buf[0] = '\\';
            buf[1] = c;
            buf[2] = 0;
            return buf;
        }
        return NULL;
    case NOTIFIER_MARKUP_PLAIN:
        if (c == '@' && (i == 0 || !s_word (s[i - 1])))
            return "\xef\xbc\xa0";
        if (c == '<')
            return "\xe2\x80\xb9";
        if (c == '>')
            return "\xe2\x80\xba";
        return NULL;
    case NOTIFIER_MARKUP_HTML:
        switch (c) {
        case '&':
            return "&amp;";
        case '<':
            return "&lt;";
        case '>':
            return "&gt;";
        case '"':
            return "&quot;";
        default:
            return NULL;
        }
    }
    return NULL;
}

const char *notifier_inert (notifier_markup_t markup, const char *text, pmo_arena_t *arena)
{
    if (!text)
        return "";
    size_t len = strlen (text), extra = 0;
    char buf[3];
    for (size_t i = 0; i < len; i++) {
        const char *rep = s_replace (markup, text, i, buf);
        if (rep)
            extra += strlen (rep);
    }
    if (!extra)
        return text;
    char *out = pmo_arena_alloc (arena, len + extra + 1), *o = out;
    for (size_t i = 0; i < len; i++) {
        const char *rep = s_replace (markup, text, i, buf);
        if (rep) {
            size_t n = strlen (rep);
            memcpy (o, rep, n);
            o += n;
        } else
            *o++ = text[i];
    }
    *o = 0;
    return out;
}
