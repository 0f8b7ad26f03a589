// eg::quoted: user text in one-line error messages.
#include <catch2/catch.hpp>

#include "base/quote.hpp"

TEST_CASE("quoted text escapes newlines and quotes so a message stays one line") {
  CHECK(eg::quoted("conv1") == "\"conv1\"");
  CHECK(eg::quoted("a\nb\"c") == "\"a\\nb\\\"c\"");
  CHECK(eg::quoted(std::string("x\0y", 3)) == "\"x\\u0000y\"");
}

TEST_CASE("quoted text longer than the limit is cut and marked") {
  const std::string long_text(1000, 'a');
  const std::string q = eg::quoted(long_text);
  CHECK(q == "\"" + std::string(eg::kMaxQuotedChars, 'a') + "...\"");
  // A multi-byte character is never split, and invalid UTF-8 does not throw.
  const std::string utf8 = std::string(eg::kMaxQuotedChars - 1, 'a') + "\xc3\xa9" + "zzz";
  CHECK(eg::quoted(utf8) == "\"" + std::string(eg::kMaxQuotedChars - 1, 'a') + "...\"");
  CHECK_NOTHROW(eg::quoted("\xff\xfe"));
}

TEST_CASE("single_quoted keeps plain names as they read and escapes the rest") {
  CHECK(eg::single_quoted("conv1") == "'conv1'");
  CHECK(eg::single_quoted("it's") == "\"it's\"");
  CHECK(eg::single_quoted("a\nb") == "\"a\\nb\"");
}

TEST_CASE("pointer_token escapes a key per RFC 6901 and shows control characters") {
  CHECK(eg::pointer_token("pe") == "pe");
  CHECK(eg::pointer_token("a/b~c") == "a~1b~0c");
  CHECK(eg::pointer_token("x\ny") == "x\\x0ay");
  CHECK(eg::pointer_token(std::string(200, 'k')) == std::string(eg::kMaxQuotedChars, 'k') + "...");
}
