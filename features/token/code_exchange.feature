@token @browser
Feature: Exchanging the code at /v2/token
  The app redeems the code with a JSON body (Marketing Cloud's documented form): grant_type,
  code, client_id, the redirect_uri in plain text (it is percent-encoded only at authorize), and
  client_secret for a web app. A public app has no secret; it proves possession of the code with
  its PKCE code_verifier (RFC 7636 §4.5).

  @TK-01 @req:S-11 @MUST @web
  Scenario: A web app redeems its code with its client secret
    Given the web app
    And the user has authorized the app in the browser
    When the app redeems the code at the token endpoint
    Then the token request was a JSON body with exactly the fields "grant_type, code, client_id, client_secret, redirect_uri, scope"
    And the token request's redirect_uri is the registered URI in plain text
    And the token endpoint answers 200
    And the token response has an access token

  @PK-01 @req:S-19 @MUST @public
  Scenario: A public app redeems its code with a PKCE S256 verifier and no secret
    Given the public app
    And the app uses PKCE with S256
    And the user has authorized the app in the browser
    When the app redeems the code at the token endpoint
    Then the token request was a JSON body with exactly the fields "grant_type, code, client_id, redirect_uri, code_verifier, scope"
    And the token endpoint answers 200
    And the token response has an access token
