@redirect @browser
Feature: Redirect URI handling at /v2/authorize
  The heart of the security review. The authorization server must compare the redirect_uri with
  the registered ones by exact string (RFC 9700 §4.1.3) and, when it does not match, show an
  error page and never send the browser there (RFC 6749 §4.1.2.1, §3.1.2.4). Each variant below
  is proven refused four ways: the browser stayed on the target's origin, not on its login page;
  its network log holds no request to anywhere else; the same request made without the browser
  gets no Location off the target; and a canary listener on loopback heard nothing.

  Variants are templates: {registered} is the app's registered redirect URI, {scheme}, {host},
  {port} and {path} its parts, {canary} the canary listener's host and port.

  Background:
    Given the web app

  @RU-01 @req:S-06 @MUST @web
  Scenario Outline: An unregistered host is refused: <variant>
    When the browser opens the authorization URL with redirect_uri "<variant>"
    Then the target refuses the request without redirecting
    And the canary host heard nothing

    Examples:
      | variant                        |
      | https://evil.example/          |
      | https://{canary}/cb            |
      | http://{canary}/cb             |
      | https://xn--e1afmkfd.xn--p1ai/ |

  @RU-02 @req:S-05 @MUST @web
  Scenario Outline: An extra path on the registered URI is refused: <variant>
    When the browser opens the authorization URL with redirect_uri "<variant>"
    Then the target refuses the request without redirecting

    Examples:
      | variant                |
      | {registered}cb/Wrong   |
      | {registered}evil       |
      | {registered}cb/../evil |

  @RU-03 @req:S-05 @MUST @web
  Scenario Outline: An extra query on the registered URI is refused: <variant>
    When the browser opens the authorization URL with redirect_uri "<variant>"
    Then the target refuses the request without redirecting

    Examples:
      | variant                  |
      | {registered}?extra=1     |
      | {registered}?next=https://evil.example/ |

  @RU-04 @req:S-04 @MUST @web @query-uri
  Scenario: A registered URI with a query keeps its query when the code is appended
    Given the authorization request's redirect_uri is "{registered_with_query}"
    When the user signs in through the browser
    Then the browser lands on the registered redirect URI with a query
    And the callback carries exactly one code

  @RU-04 @req:S-04 @MUST @web @query-uri
  Scenario Outline: A changed query on a registered URI with a query is refused: <variant>
    When the browser opens the authorization URL with redirect_uri "<variant>"
    Then the target refuses the request without redirecting

    Examples:
      | variant                              |
      | {registered_with_query}2             |
      | {registered_with_query}&tenant=evil  |

  @RU-05 @req:S-05 @MUST @web
  Scenario Outline: Path confusion and encoded traversal are refused: <variant>
    When the browser opens the authorization URL with redirect_uri "<variant>"
    Then the target refuses the request without redirecting

    Examples:
      | variant                      |
      | {registered}%2F..%2Fevil     |
      | {registered}%2e%2e/evil      |
      | {registered}..%2Fevil        |
      | {registered}%252F..%252Fevil |
      | {registered};evil            |
      | {registered}%3Bevil          |
      | {registered}%0d%0aX-Evil:1   |
      | {registered}%00              |
      | {registered}./evil           |
      | {registered}%5Cevil          |
      | {registered}..;/evil         |
      | {registered}%09              |
      | {registered}%20              |
      | {registered}%2e/             |
      | {registered}/%2e%2e/         |
      | {registered}%23evil          |
      | {registered}%3Fevil          |
      | {registered}.evil            |
      | {registered}@evil.example    |
      | {registered}%40evil.example  |

  @RU-06 @req:S-05 @MUST @web
  Scenario Outline: Host confusion is refused: <variant>
    When the browser opens the authorization URL with redirect_uri "<variant>"
    Then the target refuses the request without redirecting
    And the canary host heard nothing

    Examples:
      | variant                                 |
      | {scheme}://{host}:{port}@evil.example/  |
      | {scheme}://user:pw@evil.example{path}   |
      | {scheme}://{host}.evil.example{path}    |
      | {scheme}://evil.example#@{host}:{port}/ |
      | {scheme}://2130706433:{port}{path}      |
      | {scheme}://localhost.evil.example{path} |
      | {scheme}://{canary}@{host}:{port}{path} |
      | {scheme}://{host}:{port}\\@evil.example/ |

  @RU-07 @req:S-03 @MUST @web
  Scenario: A redirect_uri carrying its own code is refused, so no callback gets two codes
    When the browser opens the authorization URL with redirect_uri "{registered}?code=attacker"
    Then the target refuses the request without redirecting

  @RU-07 @req:S-03 @MUST @web
  Scenario: A second redirect_uri parameter is refused
    Given the authorization request also carries "redirect_uri=https%3A%2F%2Fevil.example%2F"
    When the browser opens the authorization URL
    Then the target refuses the request without redirecting

  # On an http redirect URI on a loopback IP literal, RFC 8252 §7.3 lets a server accept any
  # port: a port variant accepted there is recorded as an observation, not judged.
  @RU-08 @req:S-05 @MUST @web
  Scenario Outline: A normalised equivalent is refused under exact matching: <variant>
    When the browser opens the authorization URL with redirect_uri "<variant>"
    Then the target refuses the request without redirecting

    Examples:
      | variant                       |
      | HTTPS://{host}:{port}{path}   |
      | {scheme}://{host}{path}       |
      | {scheme}://{host}:443{path}   |
      | {scheme}://{host}:8443{path}  |
      | {scheme}://{host}:0{port}{path} |
      | {scheme}://{host}:{port}      |
      | {registered}/                 |
      | {registered}.                 |
      | {registered}%2e               |
      | {scheme}://127.000.000.001:{port}{path} |

  @RU-09 @req:S-04 @MUST @web
  Scenario Outline: A fragment is refused: <variant>
    When the browser opens the authorization URL with redirect_uri "<variant>"
    Then the target refuses the request without redirecting

    Examples:
      | variant          |
      | {registered}#x   |
      | {registered}#    |

  @RU-10 @req:RFC6749-10.15 @MUST @web
  Scenario Outline: Script and data schemes are refused: <variant>
    When the browser opens the authorization URL with redirect_uri "<variant>"
    Then the target refuses the request without redirecting

    Examples:
      | variant                                    |
      | javascript:alert(1)                        |
      | data:text/html,<script>alert(1)</script>   |
      | vbscript:msgbox(1)                         |
      | javascript://{host}:{port}{path}%0aalert(1) |

  @RU-11 @req:S-22 @MUST @web
  Scenario: The http twin of the registered https URI is refused
    When the browser opens the authorization URL with redirect_uri "http://{host}:{port}{path}"
    Then the target refuses the request without redirecting

  @RU-12 @req:RFC6749-3.1.2.3 @MUST @web @sfmc
  Scenario: A missing redirect_uri is refused (Marketing Cloud documents it as required)
    Given the authorization request has no redirect_uri
    When the browser opens the authorization URL
    Then the target refuses the request without redirecting

  @RU-14 @req:S-05 @MUST @web @sfmc
  Scenario: A double-encoded redirect_uri at authorize is refused
    When the browser opens the authorization URL with redirect_uri "https%3A%2F%2F{host}%3A{port}{path}"
    Then the target refuses the request without redirecting
