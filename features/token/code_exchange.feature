@token @browser
Feature: Exchanging the code at /v2/token
  The app redeems the code with a JSON body (Marketing Cloud's documented form): grant_type,
  code, client_id, the redirect_uri in plain text (it is percent-encoded only at authorize), and
  client_secret for a web app. A public app has no secret; it proves possession of the code with
  its PKCE code_verifier (RFC 7636 §4.5). A code is single use, short-lived, and bound to its
  client and its redirect_uri (RFC 6749 §4.1.2, §4.1.3, §10.5).

  @TK-01 @req:S-11 @MUST @web
  Scenario: A web app redeems its code with its client secret
    Given the web app
    And the user has authorized the app in the browser
    When the app redeems the code at the token endpoint
    Then the token endpoint answers 200
    And the token response has an access token

  @TK-01 @req:S-11 @MUST @public
  Scenario: A public app redeems its code with a PKCE S256 verifier and no secret
    Given the public app
    And the app uses PKCE with S256
    And the user has authorized the app in the browser
    When the app redeems the code at the token endpoint
    Then the token endpoint answers 200
    And the token response has an access token

  @TK-02 @req:S-09 @MUST @web @serial @waits
  Scenario Outline: A code redeemed a second time after <secs> seconds is refused
    Given the web app
    And the user has authorized the app in the browser, with the refresh scope, and the app has redeemed the code
    When the app redeems the code again after <secs> seconds
    Then the token endpoint answers 400 with error invalid_grant

    Examples:
      | secs |
      | 0    |
      | 1    |
      | 30   |

  @TK-03 @req:S-09 @SHOULD @web
  Scenario: After a code is reused, the tokens of its first redemption are revoked
    Given the web app
    And the user has authorized the app in the browser, with the refresh scope, and the app has redeemed the code
    And the access token works at the REST API
    When the app redeems the code again
    Then the first access token is refused by the REST API
    And the first refresh token is refused

  @TK-04 @req:S-09 @MUST @web @intrusive
  Scenario: The same code sent 5 times at once succeeds exactly once
    Given the web app
    And the user has authorized the app in the browser
    When the app redeems the code 5 times at once
    Then exactly one of them succeeded

  @TK-05 @req:S-09 @MUST @web @slow @serial
  Scenario: A code has expired at 10 minutes 10 seconds, RFC 6749's longest lifetime
    Given the web app
    And the user has authorized the app in the browser
    When the app redeems the code after 610 seconds
    Then the token endpoint answers 400 with error invalid_grant

  @TK-05 @req:SFMC @SHOULD @web @sfmc @slow @serial
  Scenario: A code is still good at 4 minutes 50 seconds, as Marketing Cloud documents 5 minutes
    Given the web app
    And the user has authorized the app in the browser
    When the app redeems the code after 290 seconds
    Then the token endpoint answers 200

  @TK-05 @req:SFMC @SHOULD @web @sfmc @slow @serial
  Scenario: A code has expired at 5 minutes 10 seconds, as Marketing Cloud documents
    Given the web app
    And the user has authorized the app in the browser
    When the app redeems the code after 310 seconds
    Then the token endpoint answers 400 with error invalid_grant

  @TK-06 @req:S-10 @MUST @web @second-app
  Scenario: A second installed package cannot redeem the app's code
    Given the web app
    And the user has authorized the app in the browser
    When the second app redeems the code as its own
    Then the token endpoint refuses it

  @TK-07 @req:S-10 @MUST @web @public
  Scenario: A web app's code cannot be redeemed as a public app, without the secret
    Given the web app
    And the user has authorized the app in the browser
    When the public app redeems the code as its own
    Then the token endpoint refuses it

  @TK-08 @req:S-11 @MUST @web @sfmc
  Scenario: A wrong client secret is refused with 401 invalid_client
    Given the web app
    And the user has authorized the app in the browser
    When the app redeems the code with a wrong client secret
    Then the token endpoint answers 401 with error invalid_client

  @TK-08 @req:S-11 @MUST @web
  Scenario: A missing client secret is refused with 401 invalid_client
    Given the web app
    And the user has authorized the app in the browser
    When the app redeems the code without client_secret
    Then the token endpoint answers 401 with error invalid_client

  @TK-09 @req:S-11 @MUST @public
  Scenario: A public app must send its client_id
    Given the public app
    And the user has authorized the app in the browser
    When the app redeems the code without client_id
    Then the token endpoint refuses it

  @TK-10 @req:S-12 @MUST @web
  Scenario: A client secret in the URL query is refused
    Given the web app
    And the user has authorized the app in the browser
    When the app redeems the code with its client secret in the URL query
    Then the token endpoint refuses it

  @TK-11 @req:S-12 @PROBE @web
  Scenario: HTTP Basic client authentication works
    Given the web app
    And the user has authorized the app in the browser
    When the app redeems the code with HTTP Basic authentication
    Then the token endpoint answers 200

  @TK-12 @req:S-13 @MUST @web
  Scenario: The token endpoint refuses GET
    Given the web app
    And the user has authorized the app in the browser
    When the app sends its code exchange to the token endpoint by GET
    Then the token endpoint refuses it

  @TK-12 @req:S-03 @MUST @web @form-body
  Scenario: A repeated code parameter in a form body is refused
    Given the web app
    And the user has authorized the app in the browser
    When the app redeems the code with code sent twice
    Then the token endpoint answers 400 with error invalid_request

  @TK-12 @req:S-03 @PROBE @web @sfmc
  Scenario: A duplicated code key in a JSON body is refused
    RFC 8259 §4 leaves a duplicated name undefined: a server that takes one of them is recorded
    as a finding, not failed.

    Given the web app
    And the user has authorized the app in the browser
    When the app redeems the code with code duplicated in a JSON body
    Then the token endpoint answers 400 with error invalid_request

  @TK-12 @req:S-02 @MUST @web
  Scenario: An unknown parameter is ignored
    Given the web app
    And the user has authorized the app in the browser
    When the app redeems the code with the extra field foo
    Then the token endpoint answers 200

  @TK-13 @req:RFC6749-4.1.3 @PROBE @web
  Scenario: A form-encoded body, as RFC 6749 defines it, is accepted
    Given the web app
    And the user has authorized the app in the browser
    When the app redeems the code as a "form" body
    Then the token endpoint answers 200

  @TK-13 @req:RFC6749-4.1.3 @PROBE @web
  Scenario: A body with a wrong Content-Type is refused
    Given the web app
    And the user has authorized the app in the browser
    When the app redeems the code as a "text/plain" body
    Then the token endpoint answers 400 with error invalid_request

  @TK-14 @req:S-15 @MUST @web
  Scenario: An unsupported grant type is refused with unsupported_grant_type
    Given the web app
    When the app asks for a token with grant_type "foo"
    Then the token endpoint answers 400 with error unsupported_grant_type

  @TK-15 @req:S-21 @MUST @web
  Scenario: The resource owner password grant is refused
    Given the web app
    When the app asks for a token with grant_type "password"
    Then the token endpoint refuses it

  @TK-16 @req:S-01 @MUST @web @live-only
  Scenario: The token endpoint requires TLS 1.2 or later with a valid certificate
    The simulator serves plain HTTP on loopback, so only a live target can run this probe.
    Given the web app
    Then the token endpoint's TLS is 1.2 or later with a valid certificate

  @RU-13 @req:S-10 @MUST @web @other-uri
  Scenario: The token request's redirect_uri must be the authorize request's
    Given the web app
    And the user has authorized the app in the browser
    When the app redeems the code with redirect_uri set to "{other_registered}"
    Then the token endpoint refuses it

  @RU-13 @req:S-10 @MUST @web
  Scenario: A token request without redirect_uri is refused
    Given the web app
    And the user has authorized the app in the browser
    When the app redeems the code without redirect_uri
    Then the token endpoint refuses it

  @RU-14 @req:SFMC @MUST @web @sfmc
  Scenario: The redirect_uri at the token endpoint is plain text: a percent-encoded one is refused
    Given the web app
    And the user has authorized the app in the browser
    When the app redeems the code with redirect_uri set to "https%3A%2F%2F{host}%3A{port}{path}"
    Then the token endpoint refuses it
