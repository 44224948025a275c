@authorize
Feature: The authorization request
  The app sends the user's browser to /v2/authorize with response_type=code, its client_id, a
  percent-encoded redirect_uri, scopes separated by spaces (%20, never +) and a state
  (Marketing Cloud Authorization Code Reference; RFC 6749 §4.1.1). The secret never goes to
  authorize: it belongs to the token request of a web app. Unknown parameters are ignored,
  repeated ones refused, and errors about the client are shown, never redirected.

  @RU-14 @req:S-05 @MUST @web @public @sfmc @browser
  Scenario Outline: The target accepts the <app>'s encoded request and asks the user to sign in
    Given the <app>
    And a browser with no login session
    And the authorization request asks for the app's scopes and state "mystate"
    When the browser opens the authorization URL
    Then the target shows its login page

    Examples:
      | app        |
      | web app    |
      | public app |

  @AZ-01 @req:S-02 @MUST @web @browser
  Scenario: An unknown parameter is ignored
    Given the web app
    And the authorization request also carries "foo=bar"
    When the user signs in through the browser
    Then the browser lands on the registered redirect URI
    And the callback carries exactly one code

  @AZ-02 @req:S-03 @MUST @web @browser
  Scenario: A repeated state is refused
    Given the web app
    And the authorization request also carries "state=again"
    When the user signs in through the browser
    Then the callback carries error invalid_request

  @AZ-02 @req:S-03 @MUST @web @browser
  Scenario: A repeated client_id is refused without redirecting
    The app's own client_id, sent twice: a server that takes the first would redirect.

    Given the web app
    And the authorization request also carries "client_id={client_id}"
    When the browser opens the authorization URL
    Then the target refuses the request without redirecting

  @AZ-03 @req:RFC6749-4.1.2.1 @MUST @web @browser
  Scenario: A missing response_type is refused
    Given the web app
    And the authorization request has no response_type
    When the user signs in through the browser
    Then the callback carries error invalid_request

  @AZ-03 @req:RFC6749-4.1.2.1 @MUST @web @browser
  Scenario: An unknown response_type is refused with unsupported_response_type
    Given the web app
    And the authorization request's response_type is "foo"
    When the user signs in through the browser
    Then the callback carries error unsupported_response_type

  @AZ-04 @req:S-21 @SHOULD @web @browser
  Scenario: The implicit grant (response_type=token) is refused
    Given the web app
    And the authorization request's response_type is "token"
    When the user signs in through the browser
    Then the callback carries error unsupported_response_type
    And the callback carries no access_token

  @AZ-05 @req:RFC6749-3.3 @MUST @web @browser
  Scenario: Scope order and parameter order do not matter
    Given the web app
    And the authorization request's scope is "{scopes_reversed}"
    And the authorization request has no response_type
    And the authorization request also carries "response_type=code"
    When the user signs in through the browser
    Then the browser lands on the registered redirect URI
    And the callback carries exactly one code

  @AZ-06 @req:S-23 @SHOULD @web @browser
  Scenario: An invalid scope is not redirected before the user signs in
    Given the web app
    And a browser with no login session
    And the authorization request's scope is "{ungranted_scope}"
    When the browser opens the authorization URL
    Then the target shows its login page

  @AZ-07 @req:S-06 @MUST @web @sfmc @browser
  Scenario: An unknown client_id gets an error page, not a redirect
    Given the web app
    And the authorization request's client_id is "unknownclient00000000000"
    When the browser opens the authorization URL
    Then the target refuses the request without redirecting
    And the canary host heard nothing

  @AZ-08 @req:S-07 @PROBE @web @browser
  Scenario: A user who cancels sends the app access_denied with the state
    Given the web app
    And a browser with no login session
    And the authorization request asks for the app's scopes and state "cancelled 1"
    When the user cancels at the login page
    Then the callback carries error access_denied
    And the callback's state is exactly "cancelled 1"

  @AZ-09 @req:RFC6749-3.1 @MAY @web @browser
  Scenario: The authorization request may be sent by POST
    Given the web app
    When the browser submits the authorization request by POST from the app's page
    Then the browser lands on the registered redirect URI
    And the callback carries exactly one code

  @AZ-10 @req:S-01 @MUST @web @live-only
  Scenario: The authorization endpoint requires TLS and has no fragment
    The simulator serves plain HTTP on loopback, so only a live target can run this check.
    Given the web app
    Then the authorization endpoint is https and has no fragment
