// A comment may mention %y#999999999 and a string "%x#99999999999": they are
// not result references.
func.func @f() attributes {s = "%x#99999999999"} {
  return
}
