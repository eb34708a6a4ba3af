package webtest

import (
	"html"
	"regexp"
	"strconv"
	"strings"
)

// What people read on pages and in emails: tests hold every rendering to
// plain words (no name from the code) and to counts that agree with their
// noun ("1 minute", "2 minutes", never "1 minutes" or "2 minute").

var (
	scriptOrStyle = regexp.MustCompile(`(?is)<(script|style)\b.*?</(script|style)>`)
	comment       = regexp.MustCompile(`(?s)<!--.*?-->`)
	tag           = regexp.MustCompile(`(?s)<[^>]*>`)
	// block is a tag that ends a run of words: a table cell, a list
	// item, a paragraph. Words either side of it are not one phrase.
	block = regexp.MustCompile(`(?is)</?(p|div|li|ul|ol|dl|dt|dd|table|caption|thead|tbody|tr|th|td|h[1-6]|header|footer|main|nav|section|article|form|fieldset|legend|label|button|option|select|details|summary|br|pre|title)\b[^>]*>`)
)

// VisibleText is the text of an HTML page as people read it: tags, with
// their attributes (class names, field names, links), scripts and
// comments left out, entities decoded and each run of blank space made
// one space. A tag that ends a block or a table cell becomes " | ", so
// that a count and the word in the next cell ("2 | user") are not read
// as one phrase; any other tag becomes a space.
func VisibleText(page string) string {
	page = scriptOrStyle.ReplaceAllString(page, " ")
	page = comment.ReplaceAllString(page, " ")
	page = block.ReplaceAllString(page, " | ")
	page = tag.ReplaceAllString(page, " ")
	return strings.Join(strings.Fields(html.UnescapeString(page)), " ")
}

// internal are names from the code that must never reach people: rollout
// outcomes and requirements, audit actors, token kinds.
var internal = regexp.MustCompile(`(?i)require_enrollment|offer_enrollment|require_totp|require_email|\bby (cli|system)\b|\btoken:|\bActor[A-Z][a-z]+\b`)

// pluralMethod is a method named in the plural with a verb for one, as
// "Email codes was set up" was.
var pluralMethod = regexp.MustCompile(`(?i)\b(?:email|recovery|security) codes (?:was|is|has)\b`)

// snakeCase is an identifier_with_underscores, which no sentence holds.
var snakeCase = regexp.MustCompile(`\b[A-Za-z][A-Za-z0-9]*(?:_[A-Za-z0-9]+)+\b`)

// token splits text into words (hyphenated ones whole), numbers and single
// marks.
var token = regexp.MustCompile(`[A-Za-z0-9]+(?:['’-][A-Za-z0-9]+)*|\S`)

// nouns are the counted nouns of our pages and emails, singular to plural.
var nouns = map[string]string{
	"minute": "minutes", "second": "seconds", "hour": "hours", "day": "days", "week": "weeks",
	"code": "codes", "person": "people", "attempt": "attempts", "try": "tries", "time": "times",
	"account": "accounts", "session": "sessions", "method": "methods", "email": "emails",
	"phase": "phases", "role": "roles", "event": "events", "message": "messages", "factor": "factors",
	"character": "characters", "letter": "letters", "digit": "digits", "device": "devices",
	"address": "addresses", "administrator": "administrators", "user": "users", "invitation": "invitations",
	"reminder": "reminders", "notice": "notices", "change": "changes", "failure": "failures",
}

// verbs are a verb's singular form to its plural one, as they follow a count.
var verbs = map[string]string{"is": "are", "has": "have", "was": "were"}

// modifiers may stand between a count and its noun: "3 unused recovery codes".
var modifiers = map[string]bool{
	"unused": true, "active": true, "wrong": true, "more": true, "new": true, "other": true,
	"recovery": true, "security": true, "failed": true, "unreached": true, "open": true,
}

var plurals = func() map[string]bool {
	m := map[string]bool{}
	for _, p := range nouns {
		m[p] = true
	}
	for _, p := range verbs {
		m[p] = true
	}
	return m
}()

// WordProblems lists what is wrong with text people read: a name from the
// code, or a count that disagrees with the noun or verb after it. Nothing
// means the text is fine.
func WordProblems(text string) []string {
	var out []string
	for _, w := range internal.FindAllString(text, -1) {
		out = append(out, "internal name "+strconv.Quote(w))
	}
	for _, m := range pluralMethod.FindAllStringIndex(text, -1) {
		if before := strings.ToLower(text[:m[0]]); strings.HasSuffix(before, "of your ") || strings.HasSuffix(before, "of their ") || strings.HasSuffix(before, "of the ") {
			continue // "One of your recovery codes was used": one is
		}
		out = append(out, "broken agreement "+strconv.Quote(text[m[0]:m[1]]))
	}
	for _, w := range snakeCase.FindAllString(text, -1) {
		if !internal.MatchString(w) {
			out = append(out, "identifier "+strconv.Quote(w))
		}
	}
	words := token.FindAllString(text, -1)
	for i, w := range words {
		n, err := strconv.Atoi(w)
		if err != nil || i+1 >= len(words) {
			continue
		}
		if i > 0 && (words[i-1] == ":" || words[i-1] == "." || words[i-1] == "," && isNumber(words[max(i-2, 0)])) {
			continue // 15:04, 1.5, 1,200
		}
		j := i + 1
		for j < len(words)-1 && modifiers[strings.ToLower(words[j])] {
			j++
		}
		next := strings.ToLower(words[j])
		// A noun that names a kind of the next one ("2 email codes") is
		// not the counted noun: the next one is.
		if _, ok := nouns[next]; ok && j+1 < len(words) {
			if after := strings.ToLower(words[j+1]); nouns[after] != "" || plurals[after] {
				next = after
				j++
			}
		}
		// "there were 1 more", "there is 2": the verb comes first.
		if i >= 2 && strings.EqualFold(words[i-2], "there") {
			before := strings.ToLower(words[i-1])
			if _, ok := verbs[before]; ok && n != 1 || plurals[before] && n == 1 {
				out = append(out, "broken plural "+strconv.Quote(strings.Join(words[i-2:j+1], " ")))
				continue
			}
		}
		phrase := strings.Join(words[i:j+1], " ")
		_, singular := nouns[next]
		if _, ok := verbs[next]; ok {
			singular = true
		}
		switch {
		case n == 1 && plurals[next]:
			out = append(out, "broken plural "+strconv.Quote(phrase))
		case n != 1 && singular:
			out = append(out, "broken plural "+strconv.Quote(phrase))
		}
	}
	return out
}

func isNumber(s string) bool {
	_, err := strconv.Atoi(s)
	return err == nil
}
