@errors @browser
Feature: Token endpoint errors
  A token error is JSON with a registered `error` code, an `error_description` and an
  `error_uri` (RFC 6749 §5.2, Marketing Cloud's shape). A client that fails to authenticate gets
  401 invalid_client.

  @TK-08 @req:S-11 @MUST @web @sfmc
  Scenario: A wrong client secret is refused with 401 invalid_client
    Given the web app
    And the user has authorized the app in the browser
    When the app redeems the code with a wrong client secret
    Then the token endpoint answers 401 with error invalid_client
    And the error body has exactly the fields "error, error_description, error_uri"
    And the token response's media type is "application/json"
