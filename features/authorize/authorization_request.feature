@authorize
Feature: The authorization request
  The app sends the user's browser to /v2/authorize with response_type=code, its client_id, a
  percent-encoded redirect_uri, scopes separated by spaces (%20, never +) and a state
  (Marketing Cloud Authorization Code Reference; RFC 6749 §4.1.1). The secret never goes to
  authorize: it belongs to the token request of a web app.

  @RU-14 @req:S-05 @MUST @web @sfmc @simulator
  Scenario: The documented example request is built byte for byte
    The simulator's web app has the documented example's client id and redirect URI, so the URL
    must be the documented one with the simulator's host in place of the tenant's.

    Given the web app
    And the authorization request asks for scope "email_read email_write email_send" and state "mystate"
    When the authorization URL is built
    Then the authorization URL is, with the target's authorize endpoint in place of the tenant's:
      """
      https://YOUR_SUBDOMAIN.auth.marketingcloudapis.com/v2/authorize?response_type=code&client_id=vqwyswrlzzfk024ivr682esb&redirect_uri=https%3A%2F%2F127.0.0.1%3A80%2F&scope=email_read%20email_write%20email_send&state=mystate
      """
    And the authorization URL carries no client secret

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
