// A throwaway module that calls a function with a known vulnerability:
// .ci/vulncheck scans it first, and a scan that does not report
// GO-2022-1059 here proves the database or the scanner is not working.
// Not part of mfagate, and never built.
module example.invalid/vulnprobe

go 1.22

require golang.org/x/text v0.3.7 // GO-2022-1059, fixed in v0.3.8
