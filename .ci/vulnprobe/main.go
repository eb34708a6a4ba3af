// Command vulnprobe calls golang.org/x/text/language.ParseAcceptLanguage
// at v0.3.7, which has a known denial of service (GO-2022-1059), so that
// govulncheck has something it must find.
package main

import (
	"fmt"

	"golang.org/x/text/language"
)

func main() {
	tags, _, err := language.ParseAcceptLanguage("en-GB,en;q=0.8")
	fmt.Println(tags, err)
}
