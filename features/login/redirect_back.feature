@login @browser
Feature: Signing in and the redirect back to the app
  After the user signs in, Marketing Cloud redirects the browser to the redirect_uri with a
  `code` in the query and the `state` it was given (RFC 6749 §4.1.2). The state must come back
  byte for byte: the app compares it with the value it stored to defeat cross-site request
  forgery. What the browser reports is read as it requested it, and decoded exactly once. Errors
  after sign-in go back the same way, with `error`, `error_description`, `error_uri` and `state`.

  @AR-01 @req:S-08 @MUST @web @public
  Scenario Outline: The <app> gets a code and the exact state <state> back
    Given the <app>
    And a browser with no login session
    And the authorization request asks for the app's scopes and state "<state>"
    When the user signs in through the browser
    Then the browser lands on the registered redirect URI
    And the callback carries exactly one code
    And the callback's state is exactly "<state>"

    Examples:
      | app        | state                          |
      | web app    | mystate                        |
      | public app | mystate                        |
      | web app    | a state with spaces            |
      | web app    | a b&c=d+e/f?g%h#i              |
      | public app | a b&c=d+e/f?g%h#i              |
      | web app    | %20%2B+%25 already-encoded?&=# |

  @AR-03 @req:S-08 @MUST @web
  Scenario: Without a state the code comes back without one
    Given the web app
    And the authorization request has no state
    When the user signs in through the browser
    Then the browser lands on the registered redirect URI
    And the callback carries exactly one code
    And the callback carries no state

  @AR-03 @req:S-08 @MUST @web
  Scenario: An 8 KB state is kept or refused cleanly
    Given the web app
    And the state sent is printable ASCII at 8 KB
    When the user signs in through the browser
    Then the state comes back exactly, or the request is refused with an error

  @AR-04 @req:RFC6749-4.1.2 @MUST @web
  Scenario: The code comes in the query, not in the fragment
    Given the web app
    When the user signs in through the browser
    Then the browser lands on the registered redirect URI
    And the callback's code is in the query, not in the fragment

  @AR-05 @req:S-07 @MUST @web
  Scenario: An error redirect carries only the defined parameters, with clean values
    Given the web app
    And the authorization request's scope is "{ungranted_scope}"
    When the user signs in through the browser
    Then the callback carries error invalid_scope
    And the callback carries only the parameters "error, error_description, error_uri, state, iss", with no control characters

  @AR-06 @req:S-07 @MUST @web
  Scenario: An error redirect echoes the state
    Given the web app
    And the authorization request asks for the app's scopes and state "error-state 1"
    And the authorization request's scope is "{ungranted_scope}"
    When the user signs in through the browser
    Then the callback carries error invalid_scope
    And the callback's state is exactly "error-state 1"

  @AR-07 @req:S-27 @PROBE @web
  Scenario: The authorization response names its issuer, if it supports RFC 9207
    Given the web app
    When the user signs in through the browser
    Then the callback's iss, if any, names the target's issuer

  @AR-08 @req:S-24 @MUST @web
  Scenario: The redirect back to the app is a 302 or 303, never a 307
    Given the web app
    And a browser with no login session
    When the user signs in through the browser
    Then the browser lands on the registered redirect URI
    And the redirect back to the app was a 302 or a 303

  @AR-09 @req:S-18 @MUST @web
  Scenario: Codes are unique, and what varies between them could hold 128 bits
    Length and alphabet of the part that varies, an upper bound: a counter fails it, but a hash
    of a counter passes, and no black-box test can prove randomness.

    Given the web app
    And 12 codes collected through the browser
    Then the collected values are unique and what varies between them could hold at least 128 bits

  @AR-10 @req:SFMC @PROBE @web @sfmc
  Scenario: A tssd, when Marketing Cloud sends one, is a tenant subdomain
    Given the web app
    When the user signs in through the browser
    Then the callback's tssd, if any, is a tenant subdomain
