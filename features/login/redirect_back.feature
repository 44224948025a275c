@login @browser
Feature: Signing in and the redirect back to the app
  After the user signs in, Marketing Cloud redirects the browser to the redirect_uri with a
  `code` and the `state` it was given (RFC 6749 §4.1.2). The state must come back byte for byte:
  the app compares it with the value it stored to defeat cross-site request forgery. What the
  browser reports is read as it requested it, and decoded exactly once.

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
